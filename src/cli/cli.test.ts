import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

function hastack(...args: string[]) {
  return runCli(args);
}

describe("hastack validate", () => {
  it("exits 0 on both examples", async () => {
    for (const file of ["examples/lab.yaml", "examples/runbook-9-node.yaml"]) {
      const result = await hastack("validate", "-i", file);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("valid");
    }
  });

  it("prints all five mistakes with line:col, exits 1, and shows no stack trace", async () => {
    const result = await hastack("validate", "-i", "src/inventory/fixtures/five-mistakes.yaml");
    expect(result.code).toBe(1);
    const lines = result.stderr.split("\n").filter((l) => /:\d+:\d+: error\[/.test(l));
    expect(lines).toHaveLength(5);
    expect(result.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
    const json = JSON.parse(
      (await hastack("validate", "--json", "-i", "src/inventory/fixtures/five-mistakes.yaml")).stdout,
    );
    expect(json.valid).toBe(false);
    expect(json.problems).toHaveLength(5);
    expect(json.problems[0]).toMatchObject({
      line: expect.any(Number),
      col: expect.any(Number),
      code: expect.any(String),
    });
  });

  it("says so, without a stack trace, when the file is missing", async () => {
    const result = await hastack("validate", "-i", "/nonexistent/inventory.yaml");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error[E_INVENTORY_READ]");
    expect(result.stderr).not.toContain("    at ");
  });
});

describe("no secret value in any output", () => {
  // Ten CLI processes in a row: ~30 s on a quiet machine, 121 s (past the default timeout) on a
  // CI rehearsal beside a failover bench. A correctness test, not a speed one: more time.
  it("greps every command's output for every generated secret", { timeout: 360_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "hastack-cli-"));
    const inventory = join(dir, "site.yaml");
    await (await import("node:fs/promises")).copyFile("examples/lab.yaml", inventory);
    const outputs: string[] = [];
    const init = await hastack("secrets", "init", "-i", inventory);
    expect(init.code).toBe(0);
    outputs.push(init.stdout, init.stderr);
    const secretsText = await readFile(join(dir, "site.secrets.yaml"), "utf8");
    const values = secretsText
      .split("\n")
      .filter((l) => /^[a-z_0-9]+: /.test(l))
      .map((l) => l.slice(l.indexOf(": ") + 2).trim());
    expect(values.length).toBeGreaterThan(0);
    // BMC passwords are the operator's: provide them so render can run.
    for (const host of ["ctl1", "ctl2", "ctl3"]) {
      await runCli(["secrets", "set", `bmc_${host}`, "-i", inventory], { stdin: `BmcPassw0rdFor${host}` });
      values.push(`BmcPassw0rdFor${host}`);
    }
    for (const args of [
      ["validate", "-i", inventory],
      ["validate", "--json", "-i", inventory],
      ["plan", "-i", inventory],
      ["plan", "--json", "-i", inventory],
      ["secrets", "list", "-i", inventory],
      ["secrets", "init", "-i", inventory, "--json"],
      ["render", "-i", inventory, "--out", join(dir, "out"), "--json"],
      ["render", "-i", inventory, "--out", join(dir, "masked"), "--masked"],
    ]) {
      const result = await hastack(...args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      outputs.push(result.stdout, result.stderr);
    }
    const all = outputs.join("\n");
    for (const value of values) expect(all.includes(value), "a secret value leaked into output").toBe(false);
  });
});

describe("hastack plan", () => {
  it("lists, per host, the deploy engine's own ordered steps and the files", async () => {
    const result = await hastack("plan", "--json", "-i", "examples/lab.yaml");
    expect(result.code).toBe(0);
    const plans = JSON.parse(result.stdout) as {
      host: string;
      files: { path: string }[];
      steps: { id: string; state: "implemented" | "declared" }[];
      notImplemented: string[];
    }[];
    const ctl1 = plans.find((p) => p.host === "ctl1");
    const ids = ctl1?.steps.map((s) => s.id) ?? [];
    expect(ids[0]).toBe("host.packages");
    for (const [before, after] of [
      ["pacemaker.files", "pacemaker.quorum"],
      ["haproxy.files", "pacemaker.cib"],
      ["galera.bootstrap", "galera.join"],
      ["galera.join", "galera.checker"],
      ["rabbitmq.start", "rabbitmq.users"],
    ] as [string, string][]) {
      expect(ids.indexOf(before), `${before} before ${after}`).toBeLessThan(ids.indexOf(after));
    }
    expect(ctl1?.steps.find((s) => s.id === "galera.join")?.state).toBe("implemented");
    // Every service the lab enables is implemented (a declared one would be named here, never
    // planned as steps that would be "ok": src/services/openstack/data-steps.test.ts), and each is
    // planned after what it needs.
    expect(ctl1?.notImplemented).toEqual([]);
    expect(ctl1?.steps.filter((s) => s.state !== "implemented")).toEqual([]);
    expect(ids.indexOf("cinder.db-sync")).toBeLessThan(ids.indexOf("cinder.start"));
    expect(ids.indexOf("cinder.start")).toBeLessThan(ids.indexOf("cinder.services-up"));
    expect(ids.indexOf("ceph.files")).toBeLessThan(ids.indexOf("cinder.start"));
    expect(ids.indexOf("galera.checker")).toBeLessThan(ids.findIndex((id) => id.startsWith("keystone.")));
    // Glance on Ceph: after the cephx users and pools, its schema before its API starts.
    for (const [before, after] of [
      ["ceph.files", "glance.start"],
      ["keystone.start", "glance.identity"],
      ["glance.db-sync", "glance.start"],
      ["placement.db-sync", "placement.start"],
    ] as [string, string][]) {
      expect(ids.indexOf(before), `${before} before ${after}`).toBeGreaterThan(-1);
      expect(ids.indexOf(before), `${before} before ${after}`).toBeLessThan(ids.indexOf(after));
    }
    expect(ctl1?.files.map((f) => f.path)).toContain("/etc/haproxy/haproxy.cfg");
    const cmp1 = plans.find((p) => p.host === "cmp1");
    expect(cmp1?.steps.some((s) => s.id.startsWith("galera."))).toBe(false);
  });
});
