/**
 * The base layer deployed for real on the lab: deploy, status, idempotence, dry-run, resume after
 * a failure, a changed host key, one drill. Runs after the lab's own e2e file (which ends with
 * `lab down`): useLab() brings the lab back.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryCopy, type LabHandle, useLab } from "../lab/testing.ts";
import { hastackSync } from "../testing/lab-cli.ts";

const CONTROLLERS = ["ctl1", "ctl2", "ctl3"];

const hastack = (args: string[], timeoutMs = 600_000, input?: string) => hastackSync(args, timeoutMs, input);

let lab: LabHandle;
const copies: string[] = [];

/**
 * Status until healthy, for up to 3 minutes after a deploy's end. Right after it, under a CI
 * machine's load, the first authenticated Glance request through the VIP once took over 10 s on
 * two controllers (keystonemiddleware's first token in a fresh worker): status said so, and was
 * right. The wait is printed.
 */
async function healthyAfterDeploy(): Promise<void> {
  const started = Date.now();
  let status = hastack(["status", "-i", lab.inventoryPath], 120_000);
  while (status.code !== 0 && Date.now() - started < 180_000) {
    await new Promise((r) => setTimeout(r, 10_000));
    status = hastack(["status", "-i", lab.inventoryPath], 120_000);
  }
  process.stderr.write(`healthy ${((Date.now() - started) / 1000).toFixed(0)} s after the deploy\n`);
  expect(status.out).toMatch(/healthy: \d+ checks ok/);
  expect(status.code).toBe(0);
}

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
});

afterAll(async () => {
  for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
});

describe("the base layer on the lab", () => {
  it("deploys from scratch and is healthy", { timeout: 1_200_000 }, async () => {
    expect(hastack(["secrets", "init", "-i", lab.inventoryPath]).code).toBe(0);
    const deploy = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 900_000);
    process.stderr.write(`full base-layer deploy: ${deploy.seconds.toFixed(1)} s\n`);
    expect(deploy.out).toMatch(/0 failed/);
    expect(deploy.code).toBe(0);
    await healthyAfterDeploy();
  });

  // Its time is printed here and measured by `npm run bench:lab` (speed lives in benchmarks).
  it("changes nothing on a second deploy", () => {
    const again = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]);
    process.stderr.write(`no-op re-deploy: ${again.seconds.toFixed(1)} s\n`);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/\b0 changed\b/);
  });

  it("shows exactly an edited HAProxy setting under --dry-run, on each controller, and changes nothing", async () => {
    const copy = await inventoryCopy(lab, "dry-run", (doc) => {
      doc.services = {
        ...(doc.services as object),
        haproxy: { ...((doc.services as { haproxy?: object })?.haproxy ?? {}), check: { rise: 3 } },
      };
    });
    copies.push(copy.dir);
    const dry = hastack(["deploy", "-i", copy.inventory, "--dry-run"]);
    expect(dry.code).toBe(0);
    const lines = dry.out.split("\n");
    const removed = lines.filter((l) => /^-\s+server /.test(l));
    const added = lines.filter((l) => /^\+\s+server /.test(l));
    // Every server line of every listener, on each controller, differing only in rise.
    expect(removed.length).toBeGreaterThan(0);
    expect(added.map((l) => l.slice(1))).toEqual(removed.map((l) => l.slice(1).replace("rise 2", "rise 3")));
    expect(lines.filter((l) => /^[-+](?![-+])/.test(l)).length).toBe(removed.length + added.length);
    const shown = lines.filter((l) => /^\w+: \/\S+$/.test(l));
    expect(shown.sort()).toEqual(CONTROLLERS.map((h) => `${h}: /etc/haproxy/haproxy.cfg`));
    // Nothing was written: the real inventory still deploys with 0 changed.
    expect(hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]).out).toMatch(/\b0 changed\b/);
  });

  it("names host, step and stderr when a step fails, and --resume finishes the run", async () => {
    // A broken unit on one host: memcached masked on ctl2, so its start step cannot enable it.
    await lab.ssh("ctl2", ["sh", "-c", "systemctl stop memcached && systemctl mask memcached"]);
    try {
      const failed = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]);
      expect(failed.code).not.toBe(0);
      expect(failed.out).toMatch(/memcached\.start/);
      expect(failed.out).toMatch(
        /Cannot apply memcached\.start on ctl2: cannot enable memcached on ctl2: exit code \d+: [\s\S]*masked/,
      );
      expect(failed.out).toMatch(/--resume/);
    } finally {
      await lab.ssh("ctl2", ["systemctl", "unmask", "memcached"]);
    }
    const resumed = hastack(["deploy", "-i", lab.inventoryPath, "--resume", "--quiet"]);
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(/done before \(resumed\)/);
    expect((await lab.ssh("ctl2", ["systemctl", "is-active", "memcached"])).stdout.trim()).toBe("active");
  });

  it("refuses a changed host key with a clear error", async () => {
    const copy = await inventoryCopy(lab, "host-key", () => {});
    copies.push(copy.dir);
    const file = path.join(copy.dir, "known_hosts");
    const lines = (await fs.readFile(file, "utf8")).split("\n");
    const i = lines.findIndex((l) => l.includes("10.20.0.12"));
    const [hostPart = "", type = "", key = ""] = lines[i]?.split(" ") ?? [];
    // Another valid-looking key: the middle of the base64 blob changed.
    const mid = Math.floor(key.length / 2);
    const altered = `${key.slice(0, mid)}${key[mid] === "A" ? "B" : "A"}${key.slice(mid + 1)}`;
    lines[i] = `${hostPart} ${type} ${altered}`;
    await fs.writeFile(file, lines.join("\n"));
    const refused = hastack(["deploy", "-i", copy.inventory, "--dry-run"]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/host key/i);
    expect(refused.out).toMatch(/ctl2|10\.20\.0\.12/);
  });

  // With Placement and Glance deployed, the powered-on controller took 310 s to be healthy again in
  // a rehearsal (Python services starting on 2 cores beside the rejoin): 600 s, as the CLI's default.
  it("survives a hard power-off of the VIP holder (drill), with measured downtime", {
    timeout: 1_200_000,
  }, async () => {
    const drill = hastack(
      ["drill", "vip-holder-poweroff", "-i", lab.inventoryPath, "--healthy-timeout", "600"],
      900_000,
    );
    process.stderr.write(`${drill.out}\n`);
    expect(drill.out).toMatch(/downtime: [\d.]+ s/);
    expect(drill.out).toMatch(/healthy again after [\d.]+/);
    // Nothing unsafe, restored: passed, or slow (safe, over its budget: 0 or 3). Whether the
    // budget is met is a speed figure, measured by `npm run bench:lab`, not a test verdict.
    expect(drill.out).toMatch(/verdict: (passed|slow) \(/);
    expect([0, 3]).toContain(drill.code);
    // The drill ended on a healthy status; a second one may still see a check settle (in a CI
    // rehearsal one did, right after the drill's). What it saw is printed, and the site must be
    // healthy again within two minutes.
    const deadline = Date.now() + 120_000;
    let status = hastack(["status", "-i", lab.inventoryPath], 120_000);
    while (status.code !== 0 && Date.now() < deadline) {
      process.stderr.write(`status after the drill, not yet healthy:\n${status.out.slice(-1500)}\n`);
      await new Promise((r) => setTimeout(r, 5000));
      status = hastack(["status", "-i", lab.inventoryPath], 120_000);
    }
    expect(status.code, status.out.slice(-2000)).toBe(0);
  });

  it("refuses to deploy, within 30 s, when a controller's BMC refuses the inventory's password; status names it", {
    timeout: 900_000,
  }, async () => {
    const bmc = lab.host("ctl3").bmcAddress;
    const right = await lab.bmcPassword("ctl3");
    const wrong = "not-the-bmc-password";
    const set = (value: string) =>
      hastack(["secrets", "set", "bmc_ctl3", "-i", lab.inventoryPath], 60_000, `${value}\n`);
    expect(set(wrong).code).toBe(0);
    try {
      const deploy = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 120_000);
      process.stderr.write(`deploy with a wrong BMC password failed in ${deploy.seconds.toFixed(1)} s\n`);
      expect(deploy.code).not.toBe(0);
      expect(deploy.out).toContain(`Cannot fence ctl3 from ctl1, ctl2: BMC ${bmc} refused the password`);
      // The preflight's own limit; the point is seconds, not Pacemaker's 180 s wait.
      expect(deploy.seconds).toBeLessThan(30);
      expect(deploy.out).not.toContain(wrong);
      expect(deploy.out).not.toContain(right);

      const status = hastack(["status", "-i", lab.inventoryPath], 120_000);
      expect(status.code).not.toBe(0);
      expect(status.out).toContain("ctl3 cannot be fenced: a failure of ctl3 would stop failover");
      expect(status.out).toContain(`BMC ${bmc} refused the password`);
      expect(status.out).not.toContain(wrong);
    } finally {
      expect(set(right).code).toBe(0);
    }
    const deploy = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 600_000);
    expect(deploy.code).toBe(0);
    await healthyAfterDeploy();
  });

  it("fences a controller for real through Pacemaker and brings it back (drill fence-check)", {
    timeout: 900_000,
  }, () => {
    const drill = hastack(["drill", "fence-check", "-i", lab.inventoryPath, "--json"], 900_000);
    const report = JSON.parse(drill.stdout) as {
      verdict: string;
      target: string;
      timings: { label: string; ms: number }[];
      problems: string[];
      violations: string[];
    };
    process.stderr.write(`fence-check: ${JSON.stringify(report.timings)}\n`);
    expect([...report.violations, ...report.problems]).toEqual([]);
    expect(report.verdict).toBe("passed");
    expect(drill.code).toBe(0);
    expect(report.timings.map((t) => t.label)).toEqual([
      "fence (stonith_admin --fence)",
      "power off confirmed by its BMC",
      "powered on, cluster stack started",
      "rejoined the cluster",
    ]);
  });
});
