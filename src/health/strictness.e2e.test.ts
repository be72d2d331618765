/**
 * Issue #12 on the lab: what the seeds check by hand, `hastack status` catches. Each fault is
 * made by hand the way an operator would, status must exit non-zero naming the cause, and once
 * the fault is undone status must be healthy again. Deploys the lab first (a no-op when it is),
 * and ends with `hastack diagnose` over the same lab, grepped for every secret.
 *
 * Not here, and why: a corosync link down on the lab's one link isolates the node and gets it
 * fenced, and etcd members cannot be made to disagree on a leader by hand; both are unit tests
 * over output captured from the lab (src/services/pacemaker/health.test.ts, etcd/health.test.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import type { CheckResult, StatusReport } from "../health/types.ts";
import { type LabHandle, useLab } from "../lab/testing.ts";
import { hastackSync } from "../testing/lab-cli.ts";

function status(lab: LabHandle): { code: number | null; report: StatusReport } {
  const r = hastackSync(["status", "-i", lab.inventoryPath, "--json"], 180_000);
  return { code: r.code, report: JSON.parse(r.stdout) as StatusReport };
}

function check(report: StatusReport, id: string, host?: string): CheckResult | undefined {
  return report.checks.find(
    (c) => `${c.service}.${c.probe}` === id && (host === undefined || c.host === host),
  );
}

/** Status until it exits 0 (a cluster settles in seconds after an undo), or the last report. */
async function healthy(lab: LabHandle, timeoutMs = 180_000): Promise<StatusReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = status(lab);
    if (s.code === 0 || Date.now() > deadline) {
      expect(s.report.headline).toMatch(/^healthy/);
      return s.report;
    }
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** Runs a shell script on a lab host and fails the test when it does not exit 0. */
async function sh(lab: LabHandle, host: string, script: string, input?: string): Promise<string> {
  const r = await lab.ssh(host, ["sh", "-c", script], input);
  expect(r.code, `${host}: ${script}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

let lab: LabHandle;

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
  // Deployed whatever ran before (files run in no set order): a no-op on a deployed lab.
  for (const args of [
    ["secrets", "init", "-i", lab.inventoryPath],
    ["deploy", "-i", lab.inventoryPath, "--quiet"],
  ]) {
    const r = hastackSync(args, 1_800_000);
    expect(r.code, `${args[0]}: ${r.out.slice(-1600)}`).toBe(0);
  }
  await healthy(lab);
}, 2_400_000);

describe("status is at least as strict as the runbooks' checks", { timeout: 600_000 }, () => {
  it("catches chrony stopped and the clock stepped on one controller", async (ctx) => {
    // The lab's hosts are containers without CAP_SYS_TIME: chrony is skipped there and no clock
    // can be stepped without stepping this machine's. Said so instead of passing on nothing.
    const cond = await sh(lab, "ctl2", "systemctl show chrony.service -p ConditionResult --value");
    if (cond.trim() === "no") ctx.skip("ctl2 cannot set its clock (no CAP_SYS_TIME in a lab container)");
    await sh(lab, "ctl2", "systemctl stop chrony && date -s '+30 seconds'");
    try {
      const s = status(lab);
      expect(s.code).not.toBe(0);
      expect(check(s.report, "host-prep.time", "ctl2")?.summary).toContain("chrony is inactive");
      expect(check(s.report, "host-prep.clocks")?.summary).toMatch(/ctl2's clock is 3\d\.\d s ahead/);
    } finally {
      await sh(lab, "ctl2", "date -s '-30 seconds' && systemctl start chrony");
    }
    await healthy(lab);
  });

  it("catches stonith-enabled=false set by hand on the live cluster (E17)", async () => {
    await sh(lab, "ctl1", "crm_attribute --type crm_config --name stonith-enabled --update false");
    try {
      const s = status(lab);
      expect(s.code).not.toBe(0);
      expect(check(s.report, "pacemaker.cluster")?.summary).toContain(
        "stonith-enabled=false on the live cluster while the inventory has fencing on",
      );
      expect(check(s.report, "pacemaker.cib")?.summary).toContain(
        "property stonith-enabled=false on the live cluster, hastack sets true",
      );
    } finally {
      await sh(lab, "ctl1", "crm_attribute --type crm_config --name stonith-enabled --update true");
    }
    await healthy(lab);
  });

  it("catches a constraint added by hand", async () => {
    // A score below resource-stickiness (100): it moves nothing, it only differs from the inventory.
    const xml = '<rsc_location id="e2e-by-hand" rsc="vip-internal" node="ctl1" score="10"/>';
    await sh(lab, "ctl1", `cibadmin --create --scope constraints --xml-text '${xml}'`);
    try {
      const s = status(lab);
      expect(s.code).not.toBe(0);
      expect(check(s.report, "pacemaker.cib")?.summary).toContain(
        "constraint e2e-by-hand (rsc_location) added by hand",
      );
    } finally {
      await sh(
        lab,
        "ctl1",
        `cibadmin --delete --scope constraints --xml-text '<rsc_location id="e2e-by-hand"/>'`,
      );
    }
    await healthy(lab);
  });

  it("catches one Galera node's data diverged (a row deleted there alone)", async () => {
    // Status has written the replication table's rows already (beforeAll waited for healthy).
    // wsrep_on=OFF keeps the delete on ctl3: the divergence Galera itself would not notice.
    const local = (statement: string) =>
      sh(lab, "ctl3", "mariadb -N -B hastack_probe", `SET SESSION wsrep_on=OFF; ${statement};\n`);
    const row = (await local("SELECT id, token, at FROM replication ORDER BY id LIMIT 1")).trim().split("\t");
    expect(row).toHaveLength(3);
    await local(`DELETE FROM replication WHERE id = ${Number(row[0])}`);
    try {
      const s = status(lab);
      expect(s.code).not.toBe(0);
      expect(check(s.report, "galera.replication")?.summary).toMatch(
        /ctl3 hold\(s\) other rows than ctl1, ctl2 .*data diverged/,
      );
    } finally {
      await local(
        `INSERT INTO replication (id, token, at) VALUES (${Number(row[0])}, '${row[1]}', '${row[2]}')`,
      );
    }
    await healthy(lab);
  });

  it("diagnose --since 10m gathers the report from the lab (after the drills), with no secret in it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "hastack-diagnose-e2e-"));
    const out = path.join(dir, "d.tar.gz");
    const r = hastackSync(["diagnose", "-i", lab.inventoryPath, "--since", "10m", "--out", out], 300_000);
    expect(r.code, r.out.slice(-1600)).toBe(0);
    expect(r.stdout).toContain("ctl1");
    expect(spawnSync("tar", ["-xzf", out, "-C", dir]).status).toBe(0);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.endsWith(".tar.gz"))
      .map((e) => path.join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThan(3);
    const texts = [r.out, ...(await Promise.all(files.map((f) => readFile(f, "utf8"))))];
    // Every secret of the lab, whole and (for key lists such as the fernet keys) each part.
    const secrets = YAML.parse(
      await readFile(path.join(path.dirname(lab.inventoryPath), "inventory.secrets.yaml"), "utf8"),
    ) as Record<string, string>;
    const values = Object.entries(secrets).flatMap(([name, value]) =>
      [value, ...String(value).split(/[\s,]+/)].filter((v) => v.length >= 12).map((v) => [name, v] as const),
    );
    expect(values.length).toBeGreaterThan(20);
    for (const [name, value] of values)
      expect(
        texts.some((t) => t.includes(value)),
        `secret ${name} in the diagnose output`,
      ).toBe(false);
  });
});
