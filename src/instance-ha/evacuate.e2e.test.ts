/**
 * Issue 10 on the lab, the response half (the engine that decides is not built yet): a compute
 * running real VMs (TCG, disks in Ceph) is named dead by the operator; `hastack ha evacuate`
 * plans from Placement, powers it off through its BMC (confirmed by read-back), forces it down
 * and disables it in Nova, and evacuates every VM to the other compute, tracked to ACTIVE. Then
 * the host is powered on, Nova destroys the evacuated instances' leftovers there (never two
 * copies running), and `hastack ha enable` re-enables it. Everything through the real client,
 * Nova, Placement, libvirt and ipmi_sim. Runs after the smoke file (vitest.config.ts's LAST),
 * whose deploy of Nova and Neutron it reuses.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloudInventoryCopy, type LabHandle, useLab } from "../lab/testing.ts";
import { hastackSync } from "../testing/lab-cli.ts";

const FAILED = "cmp1";
const OTHER = "cmp2";
const TAG = `hae2e-${Date.now().toString(36)}`;
let lab: LabHandle;
let inventory = "";
let password = "";

/** `openstack ...` as admin on ctl1 through the public VIP (TLS), the password on stdin. */
function admin(script: string) {
  const env = [
    "IFS= read -r OS_PASSWORD; export OS_PASSWORD",
    "export OS_AUTH_URL=https://10.20.0.50:5000/v3 OS_IDENTITY_API_VERSION=3 OS_USER_DOMAIN_NAME=Default",
    "export OS_PROJECT_DOMAIN_NAME=Default OS_USERNAME=admin OS_PROJECT_NAME=admin OS_REGION_NAME=RegionOne",
    "export OS_INTERFACE=public OS_CACERT=/etc/hastack/tls/site-ca.pem",
  ].join("\n");
  return lab.ssh("ctl1", ["bash", "-c", `${env}\n${script}`], `${password}\n`, 400_000);
}

describe("ha evacuate on the lab: a compute with real VMs fenced and evacuated, then re-enabled", () => {
  beforeAll(async () => {
    lab = await useLab();
    const copy = await cloudInventoryCopy(lab);
    inventory = copy.inventory;
    expect(hastackSync(["deploy", "-i", inventory, "--quiet"], 1_200_000).code).toBe(0);
    expect(hastackSync(["lab", "guest-image", "-i", inventory], 900_000).code).toBe(0);
    const secrets = parse(await readFile(inventory.replace(/\.yaml$/, ".secrets.yaml"), "utf8")) as Record<
      string,
      string
    >;
    password = secrets.keystone_admin ?? "";
    expect(password).not.toBe("");
  });

  // Also after a failure: the compute powered on again, the test's servers and network deleted.
  afterAll(async () => {
    if (!lab || !password) return;
    if ((await lab.powerState(FAILED).catch(() => "on")) === "off") {
      await lab.power(FAILED, "on");
      await lab.waitForSsh(FAILED, 180_000);
      hastackSync(["ha", "enable", FAILED, "-i", inventory], 300_000);
    }
    await admin(
      [
        `ids=$(openstack server list --name '^${TAG}-' --all-projects -f value -c ID)`,
        `[ -z "$ids" ] || openstack server delete --wait $ids`,
        `openstack subnet delete ${TAG} 2>/dev/null; openstack network delete ${TAG} 2>/dev/null; true`,
      ].join("\n"),
    );
  }, 600_000);

  it("evacuates every VM of a powered-off compute to the other, then brings the host back enabled with no leftover", {
    timeout: 900_000,
  }, async () => {
    const boot = await admin(
      [
        "set -e",
        `openstack network create ${TAG} -f value -c id >/dev/null`,
        `openstack subnet create --network ${TAG} --subnet-range 192.168.77.0/24 ${TAG} -f value -c id >/dev/null`,
        `for i in 1 2 3; do openstack server create --availability-zone nova:${FAILED} --image hastack-guest --flavor hastack.tiny --network ${TAG} ${TAG}-$i -f value -c id; done`,
        `for i in $(seq 1 90); do n=$(openstack server list --name '^${TAG}-' --status ACTIVE -f value -c ID | wc -l); [ "$n" = 3 ] && break; sleep 2; done`,
        `openstack server list --name '^${TAG}-' --long -f value -c ID -c Status -c Host`,
      ].join("\n"),
    );
    expect(boot.code, boot.stderr).toBe(0);
    const ids = boot.stdout.trim().split("\n").slice(0, 3);
    expect(ids).toHaveLength(3);

    const dry = hastackSync(["ha", "evacuate", FAILED, "-i", inventory, "--dry-run"], 120_000);
    expect(dry.code, dry.out).toBe(0);
    for (const id of ids) expect(dry.out).toContain(`plan: ${id} -> ${OTHER}`);
    expect(await lab.powerState(FAILED)).toBe("on");

    const run = hastackSync(["ha", "evacuate", FAILED, "-i", inventory, "--yes"], 600_000);
    console.log(run.out);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/fenced by power in [\d.]+ s/);
    // The order the issue demands: the fence confirmed before Nova hears anything.
    const order = ["fenced by power", `nova-compute on ${FAILED} forced down`, "evacuate requested"];
    const positions = order.map((w) => run.out.indexOf(w));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const id of ids)
      expect(run.out).toMatch(new RegExp(`${id} ${TAG}-\\d: evacuated on ${OTHER} after`));
    expect(await lab.powerState(FAILED)).toBe("off");

    const after = await admin(
      `openstack server list --name '^${TAG}-' --all-projects -f value -c ID -c Status -c Host --long`,
    );
    // `--long`'s Host is the hypervisor's; each server ACTIVE there, none left on the failed host.
    for (const id of ids) expect(after.stdout).toMatch(new RegExp(`${id} ACTIVE ${OTHER}\\b`));

    // Back on: nova-compute destroys the evacuated instances' leftovers before anything runs twice.
    await lab.power(FAILED, "on");
    await lab.waitForSsh(FAILED, 180_000);
    const enable = hastackSync(["ha", "enable", FAILED, "-i", inventory], 300_000);
    console.log(enable.out);
    expect(enable.code, enable.out).toBe(0);
    expect(enable.out).toMatch(/1 nova-compute service\(s\) enabled/);
    const leftovers = await lab.ssh(FAILED, [
      "sh",
      "-c",
      "virsh -c qemu:///system list --all --name | grep -c . || true",
    ]);
    expect(leftovers.stdout.trim()).toBe("0");
    const services = await admin(
      `openstack compute service list --service nova-compute --host ${FAILED} -f value -c Status -c State`,
    );
    expect(services.stdout.trim()).toBe("enabled up");
  });
});
