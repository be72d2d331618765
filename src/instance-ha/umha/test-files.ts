/**
 * @module
 * UMHA's files as its reference documents them (sample values; host names and addresses those of
 * the lab's computes, as FQDNs), written for real into a temp directory beside a copy of
 * examples/lab.yaml, for the import's tests.
 */
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SAMPLE_CONF = `# /etc/umha/umha.conf
[DEFAULT]
has_IPMI = true
ping_count = 3
allow_evacuate_local_vm = false
on_share_storage = true
ipmi_check_max_count = 3
ipmi_check_interval = 10
force_evacuate_when_ipmi_unknown = false
business_connectivity_cfg = enabled:0,severity:0
path_access_ok_cfg = enabled:0,severity:0
really_evacuate = true
interval_check_nova_service = 10
max_second_wait_for_service_down = 60
seconds_before_check_vm_status = 20

[auth]
auth_url = http://192.168.0.2:5000/v3
admin_password = keystone-admin-pw

[db]
connection = mysql+pymysql://umha:umha-db-pw@192.168.0.2/umha

[email]
enable_send_mail = true
smtp_server = mail.lab.example
smtp_port = 587
need_auth = true
sender = umha@lab.example
password = mail-pw-7731
receiver_list = ops@lab.example, oncall@lab.example
mail_subject = UMHA alert
send_interval_hours = 3

[time]
sample_interval = 60
ha_check_interval = 180
evacuate_timeout = 60

[valve]
storage_number = 6
storage_ratio = 0.6
power_off_number = 6
power_off_ratio = 0.6
panic_number = 6
panic_ratio = 0.6
error_count = 3
continue_count = 5
`;

/** cmp1's password holds a ':' (everything after the third one is the password). */
export const SAMPLE_IPMI = `cmp1.lab.example:10.29.0.121:admin:root:123
cmp2.lab.example:10.29.0.122:admin:root456
node-9.lab.example:10.29.0.129:root:root789
`;

export const SAMPLE_STORAGE = `cmp1.lab.example:10.21.0.21
cmp2.lab.example:10.21.0.22
`;

export interface UmhaSite {
  root: string;
  umha: string;
  inventory: string;
  secrets: string;
}

/**
 * A copy of the lab's inventory with cmp1's BMC and cmp2's storage address taken out (what the
 * import has to add back) and UMHA's files beside it; `files` replaces any of them.
 */
export async function umhaSite(
  files: Partial<Record<"conf" | "ipmi" | "storage", string>> = {},
): Promise<UmhaSite> {
  const root = await mkdtemp(join(tmpdir(), "hastack-umha-"));
  const umha = join(root, "umha");
  await mkdir(umha);
  const inventory = join(root, "inventory.yaml");
  await copyFile("examples/lab.yaml", inventory);
  const lab = await readFile(inventory, "utf8");
  const bmc =
    "    bmc:\n      address: 10.29.0.121\n      port: 623\n      user: admin\n      password_secret: bmc_cmp1\n";
  const storage = "      storage: 10.21.0.22\n";
  if (!lab.includes(bmc) || !lab.includes(storage))
    throw new Error("examples/lab.yaml changed: update umhaSite");
  await writeFile(inventory, lab.replace(bmc, "").replace(storage, ""));
  await writeFile(join(umha, "umha.conf"), files.conf ?? SAMPLE_CONF);
  await writeFile(join(umha, "ipmi_info"), files.ipmi ?? SAMPLE_IPMI);
  await writeFile(join(umha, "node_storage_ip_info"), files.storage ?? SAMPLE_STORAGE);
  return { root, umha, inventory, secrets: join(root, "inventory.secrets.yaml") };
}
