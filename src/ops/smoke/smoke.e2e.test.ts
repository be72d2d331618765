/**
 * The cloud on the lab (issue 9): the lab's site with Nova and Neutron (ML2/OVN) enabled is
 * deployed onto the running lab, the guest image and flavor go into Glance, and `hastack smoke`
 * boots servers on both computes through the VIP with the real `openstack` client and attaches
 * a Cinder volume from Ceph to one of them. Runs after
 * every other e2e file (vitest.config.ts orders it last): it leaves Nova, Neutron and OVN running,
 * and the other files' failover budgets were measured without them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cloudInventoryCopy, useLab } from "../../lab/testing.ts";
import { hastackSync, notOkLines, statusUntilHealthy } from "../../testing/lab-cli.ts";

let inventory = "";

describe("the cloud on the lab: Nova and Neutron deployed, servers booted by hastack smoke", () => {
  beforeAll(async () => {
    const lab = await useLab();
    expect(hastackSync(["deploy", "-i", lab.inventoryPath, "--quiet"]).code).toBe(0);
    const copy = await cloudInventoryCopy(lab);
    inventory = copy.inventory;
  });

  it("deploys Nova and Neutron onto the running site; status sees computes, hypervisors, OVN clusters and chassis", {
    // The deploy's own bound (20 min on a loaded machine) and the status wait after it: the e2e
    // default of 10 min cut a CI run whose deploy took 18 min while it waited for status.
    timeout: 1_500_000,
  }, async () => {
    const deploy = hastackSync(["deploy", "-i", inventory, "--quiet"], 1_200_000);
    console.log(`deploy of Nova and Neutron onto the running lab: ${deploy.seconds.toFixed(1)} s`);
    expect(deploy.code, deploy.out).toBe(0);
    // Nova and Neutron were just (re)started: status may need a few seconds to see every agent
    // report in. Each unhealthy attempt's non-ok lines are printed, and so is the wait.
    const status = await statusUntilHealthy(inventory, 120_000);
    expect(status.code, notOkLines(status.out)).toBe(0);
    expect(status.out).toMatch(/nova-compute 2\/2 up/);
    expect(status.out).toMatch(/2\/2 hypervisors up/);
    expect(status.out).toMatch(/5\/5 chassis registered/);
    expect(status.out).toMatch(/OVN southbound database: .* leader ctl\d, 3 members/);
    expect(status.out).toMatch(/cinder-scheduler 3\/3, cinder-volume 3\/3, cinder-backup 3\/3 up/);
  });

  it("changes nothing on a second deploy", () => {
    const again = hastackSync(["deploy", "-i", inventory, "--quiet"]);
    console.log(`no-op deploy with Nova and Neutron: ${again.seconds.toFixed(1)} s`);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/\b0 changed\b/);
  });

  it("boots a server on each compute that answers at its Neutron address with its own id, then deletes everything", () => {
    const upload = hastackSync(["lab", "guest-image", "-i", inventory], 900_000);
    expect(upload.code, upload.out).toBe(0);
    const smoke = hastackSync(["smoke", "-i", inventory], 900_000);
    console.log(smoke.stdout);
    expect(smoke.code, smoke.out).toBe(0);
    expect(smoke.out).toMatch(/^ok .* servers ACTIVE: \w+ on cmp\d, \w+ on cmp\d$/m);
    // Anti-affinity: one on each compute.
    expect(smoke.out).toMatch(/on cmp1/);
    expect(smoke.out).toMatch(/on cmp2/);
    expect(smoke.out).toMatch(/^ok .* each guest answers at its address: .*hastack-guest [0-9a-f-]{36} /m);
    // The volume is in Ceph's volumes pool and QEMU on the compute opened it with client.cinder's key.
    expect(smoke.out).toMatch(
      /^ok .* volume from Ceph, attached: 1 GiB volume \w+ available after .* in-use after .* on cmp\d has disk volumes\/volume-[0-9a-f-]{36}\), detached after .*, deleted$/m,
    );
    // cinder-backup wrote it to Ceph's backups pool (differential: a base image named after the volume).
    expect(smoke.out).toMatch(
      /^ok .* volume backup to Ceph: backup of a 1 GiB volume available after .* as RBD image backups\/volume-[0-9a-f-]{36}\S*, deleted$/m,
    );
    expect(smoke.out).toMatch(/smoke passed in [\d.]+ s: \d+ ok, 0 failed, 0 not run/);
  });
});
