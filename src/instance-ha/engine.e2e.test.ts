/**
 * Issue 10 on the lab, end to end and hands off: a compute running real VMs (TCG, disks in Ceph)
 * is powered off through its BMC, as a dead host would be. Nobody tells hastack: the engine
 * (Pacemaker's hastack-engine, on one controller) hears the agent's heartbeats stop on both
 * networks, fails the host, fences it (BMC power off, confirmed by read-back), forces it down and
 * disables it in Nova, and evacuates every VM to the other compute, tracked to ACTIVE. Then the
 * host is powered on: Nova destroys the evacuated instances' leftovers there (never two copies
 * running), and the engine re-enables it once its agent is heard healthy again. Everything
 * through the real client, Nova, Placement, libvirt, ipmi_sim and Galera (the history). Runs
 * after the smoke file (vitest.config.ts's LAST), whose deploy of the cloud it reuses.
 *
 * It prints the timeline (power off -> detected -> fenced -> each VM ACTIVE); the numbers are
 * measured by `npm run bench:lab`, not asserted here.
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

describe("instance HA on the lab: a dead compute fenced and its VMs evacuated by the engine, then re-enabled", () => {
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
      // The engine re-enables it; `ha enable` does it at once if the engine did not.
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

  it("the engine fences a powered-off compute and evacuates its VMs by itself, then re-enables the host when it is back", {
    timeout: 900_000,
  }, async () => {
    const located = await lab.ssh("ctl1", ["crm_resource", "--locate", "--resource", "hastack-engine"]);
    expect(located.stdout, located.stderr).toMatch(/is running on: ctl\d/);
    const engineNode = /running on: (ctl\d)/.exec(located.stdout)?.[1] ?? "";
    for (const cmp of [FAILED, OTHER]) {
      const agent = await lab.ssh(cmp, ["systemctl", "is-active", "hastack-agent"]);
      expect(agent.stdout.trim(), `${cmp}: hastack-agent`).toBe("active");
    }

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

    // The operator's view of the same plan (nothing is touched by a dry run).
    const dry = hastackSync(["ha", "evacuate", FAILED, "-i", inventory, "--dry-run"], 120_000);
    expect(dry.code, dry.out).toBe(0);
    for (const id of ids) expect(dry.out).toContain(`plan: ${id} -> ${OTHER}`);

    const off = Date.now();
    await lab.power(FAILED, "off");
    // Every VM ACTIVE on the other compute, polled as an operator would.
    let activeAt = 0;
    for (let i = 0; i < 300 && !activeAt; i++) {
      const list = await admin(
        `openstack server list --name '^${TAG}-' --all-projects -f value -c ID -c Status -c Host --long`,
      );
      if (ids.every((id) => new RegExp(`${id} ACTIVE ${OTHER}\\b`).test(list.stdout))) activeAt = Date.now();
      else await new Promise((r) => setTimeout(r, 1000));
    }
    const history = await lab.ssh(engineNode, [
      "mariadb",
      "-N",
      "hastack_ha",
      "-e",
      `SELECT DATE_FORMAT(at, '%H:%i:%s.%f'), kind, detail FROM ha_events WHERE host = '${FAILED}' AND at >= FROM_UNIXTIME(${Math.floor(off / 1000)}) ORDER BY id`,
    ]);
    console.log(`${FAILED} powered off at ${new Date(off).toISOString()}; history:\n${history.stdout}`);
    console.log(
      `every VM ACTIVE on ${OTHER} ${((activeAt - off) / 1000).toFixed(1)} s after the power-off (polled every ~2 s)`,
    );
    expect(activeAt, "every VM ACTIVE on the other compute").toBeGreaterThan(0);
    // The order the issue demands: failed, then the fence confirmed, then Nova.
    const lines = history.stdout;
    const order = [/\bfailed\b/, /fenced by power|power.*off.*confirmed|fence.*power/i, /evacuat/i];
    const positions = order.map((re) => lines.search(re));
    expect(
      positions.every((p) => p >= 0),
      lines,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(await lab.powerState(FAILED)).toBe("off");

    // Back on: nova-compute destroys the leftovers, and the engine re-enables the host by itself.
    await lab.power(FAILED, "on");
    await lab.waitForSsh(FAILED, 180_000);
    let state = "";
    for (let i = 0; i < 100 && state !== "enabled up"; i++) {
      const services = await admin(
        `openstack compute service list --service nova-compute --host ${FAILED} -f value -c Status -c State`,
      );
      state = services.stdout.trim();
      if (state !== "enabled up") await new Promise((r) => setTimeout(r, 3000));
    }
    expect(state, "nova-compute re-enabled by the engine").toBe("enabled up");
    const leftovers = await lab.ssh(FAILED, [
      "sh",
      "-c",
      "virsh -c qemu:///system list --all --name | grep -c . || true",
    ]);
    expect(leftovers.stdout.trim()).toBe("0");
  });
});
