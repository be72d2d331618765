/**
 * Issue 11's backups on the lab: `hastack backup run` takes a hot backup of the lab's Galera and
 * stores it in the lab's Ceph (pool hastack-backups), `list` shows it, and `verify` restores it
 * into a scratch MariaDB on a controller and finds the canary row written before the backup.
 * A part damaged in Ceph makes verify fail: the check can fail.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackSync } from "../../testing/lab-cli.ts";

const hastack = hastackSync;
let lab: LabHandle;
let id = "";

interface Checked {
  ok: boolean;
  findings: { check: string; ok: boolean; detail: string }[];
}

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
  // The pool, the cephx user and its keyring on the controllers come from the deploy.
  expect(hastack(["secrets", "init", "-i", lab.inventoryPath]).code).toBe(0);
  const deploy = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"], 1_200_000);
  expect(deploy.out).toMatch(/0 failed/);
});

describe("hastack backup on the lab", () => {
  it("takes a hot backup of Galera into Ceph, and lists it", { timeout: 900_000 }, () => {
    const run = hastack(["backup", "run", "-i", lab.inventoryPath, "--json"], 900_000);
    process.stderr.write(`backup run: ${run.seconds.toFixed(1)} s\n${run.out.slice(-1500)}\n`);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as {
      where: string;
      manifest: { id: string; parts: unknown[]; size: number };
    };
    id = result.manifest.id;
    expect(result.where).toMatch(/hastack-backups/);
    expect(result.manifest.parts.length).toBeGreaterThan(0);
    const list = hastack(["backup", "list", "-i", lab.inventoryPath, "--json"], 300_000);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((b) => b.id)).toContain(id);
  });

  it("restores it into a scratch MariaDB and finds the canary row and the counts", {
    timeout: 900_000,
  }, () => {
    const verify = hastack(["backup", "verify", id, "-i", lab.inventoryPath, "--json"], 900_000);
    process.stderr.write(`backup verify: ${verify.seconds.toFixed(1)} s\n${verify.out.slice(-2000)}\n`);
    const result = JSON.parse(verify.stdout) as Checked;
    expect(result.findings.filter((f) => !f.ok)).toEqual([]);
    expect(result.findings.map((f) => f.check).join(" ")).toMatch(/canary/);
    expect(result.ok).toBe(true);
    expect(verify.code).toBe(0);
  });

  it("fails verify when a stored part was damaged", { timeout: 900_000 }, async () => {
    // Truncated in place, as the cluster's admin could (sto1 holds the admin keyring).
    const damage = await lab.ssh("sto1", [
      "bash",
      "-c",
      `rados -p hastack-backups get ${id}/part-0000 /tmp/part && head -c 1000 /tmp/part > /tmp/part.bad && rados -p hastack-backups put ${id}/part-0000 /tmp/part.bad && rm -f /tmp/part /tmp/part.bad`,
    ]);
    expect(damage.code, damage.stderr).toBe(0);
    const verify = hastack(["backup", "verify", id, "-i", lab.inventoryPath, "--json"], 900_000);
    expect(verify.code).toBe(1);
    const result = JSON.parse(verify.stdout) as Checked;
    expect(result.ok).toBe(false);
    expect(
      result.findings
        .filter((f) => !f.ok)
        .map((f) => f.detail)
        .join(" "),
    ).toMatch(/part-0000/);
  });
});
