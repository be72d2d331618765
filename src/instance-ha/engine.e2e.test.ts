/**
 * Issue 10 on the lab, end to end and hands off: `hastack ha drill compute-poweroff` boots real
 * VMs (TCG, disks in Ceph) on a compute, each writing a marker to its disk, and pulls the
 * compute's plug through its BMC. Nobody tells hastack: the engine (Pacemaker's hastack-engine,
 * on one controller) hears the agent's heartbeats stop on both networks, fails the host, fences
 * it (BMC power off, confirmed by read-back), forces it down and disables it in Nova, and
 * evacuates every VM to the other compute. The drill watches each VM go ACTIVE there, answer a
 * ping, and find its marker on its disk; then powers the compute on, and the engine re-enables
 * it with no domain left on it. `ha status`, `ha history` and the engine's /metrics then tell
 * the same story. Runs after the smoke file (vitest.config.ts's LAST), whose deploy it reuses.
 *
 * The other faults of issue #10 item 8, each through `hastack ha drill` as well:
 * - the management network cut (storage alive): no fence, no evacuation, the VMs stay and answer
 *   where they were once healed, and run nowhere else;
 * - the storage network cut (management alive): the VMs lost their disks, fence by power and
 *   evacuate;
 * - the BMC dead with the host: no power state can be read, so the host's storage addresses are
 *   blocklisted in Ceph (the storage fence) and its VMs evacuated; the blocklist is lifted when
 *   it is back;
 * - every compute powered off at once (the lab has two; the three on a bigger site): the
 *   valve closes, nothing is fenced or evacuated;
 * - the active engine killed (SIGKILL, its controller banned) once an evacuation has started: a
 *   standby finishes it from the history, and Nova shows one evacuation per VM;
 * - room elsewhere for one of the three VMs (memory held in Placement): the VM of the highest
 *   priority (server tag) moves, the others stay where they were, named in the history, and the
 *   engine's evacuation ledger in Galera says done for one and unplaced for the others.
 *
 * Timings are printed, not asserted (npm run bench:lab measures them); the verdict may be
 * "missed-budget" here, never "failed".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudInventoryCopy, type LabHandle, useLab } from "../lab/testing.ts";
import { hastackSync } from "../testing/lab-cli.ts";
import type { ComputeFaultReport } from "./drill/report.ts";

const FAILED = "cmp1";
let lab: LabHandle;
let inventory = "";

describe("instance HA on the lab: each compute fault met as it must be (fence and evacuate, or hold), then the host re-enabled", () => {
  beforeAll(async () => {
    lab = await useLab();
    inventory = (await cloudInventoryCopy(lab)).inventory;
    // After the smoke file (CI's order) the cloud is deployed and its engine answers: a no-op
    // deploy would only cost CI 2-4 minutes. Run alone, this file deploys the cloud first.
    if (hastackSync(["ha", "status", "-i", inventory], 60_000).code !== 0)
      expect(hastackSync(["deploy", "-i", inventory, "--quiet"], 1_200_000).code).toBe(0);
    // Left alone when the smoke file put it there already (its recipe's key is on the image).
    expect(hastackSync(["lab", "guest-image", "-i", inventory], 900_000).code).toBe(0);
  });

  // Each drill restores its compute itself; after a failed drill, make sure: BMC answering,
  // links healed, powered on and enabled.
  afterAll(async () => {
    if (!lab) return;
    for (const cmp of ["cmp1", "cmp2"]) {
      hastackSync(["lab", "thaw", "--bmc", cmp], 60_000);
      hastackSync(["lab", "heal", cmp], 60_000);
      if ((await lab.powerState(cmp).catch(() => "on")) === "off") {
        await lab.power(cmp, "on");
        await lab.waitForSsh(cmp, 180_000);
      }
      hastackSync(["ha", "enable", cmp, "-i", inventory], 300_000);
    }
  }, 900_000);

  it("the engine runs on one controller and every compute's agent is active", async () => {
    const located = await lab.ssh("ctl1", ["crm_resource", "--locate", "--resource", "hastack-engine"]);
    expect(located.stdout, located.stderr).toMatch(/is running on: ctl\d/);
    for (const cmp of ["cmp1", "cmp2"]) {
      const agent = await lab.ssh(cmp, ["systemctl", "is-active", "hastack-agent"]);
      expect(agent.stdout.trim(), `${cmp}: hastack-agent`).toBe("active");
    }
    const status = hastackSync(["ha", "status", "-i", inventory], 60_000);
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/cmp1\b.*healthy/);
  });

  /** Runs one drill through the CLI, prints its timeline, and checks what every drill must show. */
  function drill(name: string, host: string, extra: string[] = []): ComputeFaultReport {
    const run = hastackSync(
      ["ha", "drill", name, "-i", inventory, "--host", host, "--vms", "3", "--json", ...extra],
      1_200_000,
    );
    const report = JSON.parse(run.stdout) as ComputeFaultReport;
    console.log(report.timeline.join("\n"));
    console.log(
      `${name}: detected ${report.detectedS} s, fenced ${report.fencedS} s by ${report.fenceMethod}, every VM ACTIVE ${report.allActiveS} s, every guest answering ${report.allAnsweringS} s, re-enabled ${report.reenabledS} s after its return: ${report.verdict}`,
    );
    expect(report.problems).toEqual([]);
    expect(report.vms).toHaveLength(3);
    expect(report.leftovers).toBe(0);
    return report;
  }

  /** A fault that calls for a fence: every VM ACTIVE on the other compute, answering, its disk intact. */
  function evacuated(report: ComputeFaultReport, to: string): void {
    expect(["passed", "missed-budget"]).toContain(report.verdict);
    for (const vm of report.vms) {
      expect(vm.to, vm.name).toBe(to);
      expect(vm.diskIntact, vm.name).toBe(true);
      expect(vm.answeringS, vm.name).toBeDefined();
    }
  }

  it("compute-management-cut: no fence and no evacuation while storage still hears the host; its VMs answer where they were once healed", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-management-cut", "cmp2", ["--hold", "60"]);
    expect(report.verdict).toBe("passed");
    expect(report.fencedS).toBeUndefined();
    for (const vm of report.vms) expect(vm.to, vm.name).toBeUndefined();
    expect(report.watchedS).toBeGreaterThanOrEqual(60);
  });

  it("compute-poweroff: every VM ACTIVE on the other compute, answering, its disk intact; the host back and enabled", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-poweroff", FAILED);
    expect(report.fenceMethod).toBe("power");
    evacuated(report, "cmp2");

    // The operator's tools tell the same story, from the engine's history in Galera.
    const history = hastackSync(
      ["ha", "history", "-i", inventory, "--host", FAILED, "--since", "1h"],
      60_000,
    );
    expect(history.code, history.out).toBe(0);
    expect(history.out).toMatch(/fence/);
    expect(history.out).toMatch(/evacuat/);
    const engineNode = /running on: (ctl\d)/.exec(
      (await lab.ssh("ctl1", ["crm_resource", "--locate", "--resource", "hastack-engine"])).stdout,
    )?.[1];
    expect(engineNode).toBeDefined();
    const ip = lab.host(engineNode ?? "").addresses.management;
    const metrics = await lab.ssh("ctl1", ["curl", "-sS", `http://${ip}:4952/metrics`]);
    expect(metrics.stdout).toMatch(/^hastack_ha_fences_total\{[^}]*method="power"[^}]*\} [1-9]/m);
    expect(metrics.stdout).toMatch(/^hastack_ha_evacuation_seconds_count\{outcome="evacuated"\} [1-9]/m);
  });

  it("compute-storage-cut: a host whose VMs lost their disks is fenced by power and its VMs evacuated", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-storage-cut", "cmp2");
    expect(report.fenceMethod).toBe("power");
    evacuated(report, FAILED);
  });

  it("compute-bmc-dead: with no power state to read, the host's storage is blocklisted in Ceph and its VMs evacuated", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-bmc-dead", FAILED);
    expect(report.fenceMethod).toBe("storage");
    evacuated(report, "cmp2");
    // The blocklist was lifted when the host came back (the engine's re-enable, or the drill's).
    const listed = await lab.ssh("ctl1", ["ceph", "osd", "blocklist", "ls"]);
    const storageIp = lab.host(FAILED).addresses.storage;
    expect(listed.stdout).not.toContain(`${storageIp}:0/0`);
  });

  it("compute-mass-poweroff: every compute of the lab powered off at once closes the valve: no fence, no evacuation", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-mass-poweroff", FAILED, ["--hold", "60"]);
    expect(report.verdict).toBe("passed");
    expect(report.fencedS).toBeUndefined();
    for (const vm of report.vms) expect(vm.to, vm.name).toBeUndefined();
    const gates = hastackSync(
      ["ha", "history", "-i", inventory, "--host", FAILED, "--kind", "gate", "--since", "10m"],
      60_000,
    );
    expect(gates.out).toMatch(/valve closed/);
  });

  it("engine-killed: the active engine killed mid-evacuation, a standby finishes it, no VM evacuated twice", {
    timeout: 1_200_000,
  }, async () => {
    // The drill's problems include both checks: Nova's instance actions show one evacuation per
    // VM, and the evacuation's end was recorded by another engine than its start.
    const report = drill("engine-killed", "cmp2");
    expect(report.fenceMethod).toBe("power");
    evacuated(report, FAILED);
    expect(report.timeline.join("\n")).toMatch(/the active engine on ctl\d killed/);
  });

  it("compute-capacity-short: room for one VM: the highest priority moves, the others stay where they were, named; the ledger in Galera says the same", {
    timeout: 1_200_000,
  }, async () => {
    const report = drill("compute-capacity-short", FAILED);
    expect(["passed", "missed-budget"]).toContain(report.verdict);
    const [moved, ...stayed] = [...report.vms].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
    expect(moved?.to).toBe("cmp2");
    expect(moved?.diskIntact).toBe(true);
    for (const vm of stayed) {
      expect(vm.stays, vm.name).toBe(true);
      expect(vm.to, vm.name).toBeUndefined();
    }
    // Each server's row of the engine's evacuation ledger: done for the one, unplaced for the rest.
    const ids = report.vms.map((v) => `'${v.id}'`).join(",");
    const rows = await lab.ssh("ctl1", [
      "mysql",
      "-N",
      "-e",
      `SELECT server_id, status, COALESCE(to_host, '-') FROM hastack_ha.ha_evacuations WHERE server_id IN (${ids})`,
    ]);
    const statusOf = new Map(
      rows.stdout
        .trim()
        .split("\n")
        .map((l) => [l.split("\t")[0], l.split("\t").slice(1).join(" ")]),
    );
    expect(statusOf.get(moved?.id ?? "")).toBe("done cmp2");
    for (const vm of stayed) expect(statusOf.get(vm.id), vm.name).toBe("unplaced -");
  });
});
