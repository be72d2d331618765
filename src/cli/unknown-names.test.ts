import { copyFile, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

const lab = "examples/lab.yaml";

/** A name that matches nothing is an error naming the valid ones, never an empty "ok". */
describe("unknown names on the command line", () => {
  it("status --only refuses a service it has no probes for, listing those it has", async () => {
    const r = await runCli(["status", "--only", "nosuchthing", "-i", lab]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error[E_UNKNOWN_NAME]: Unknown --only 'nosuchthing'");
    for (const service of ["galera", "rabbitmq", "haproxy", "etcd", "memcached", "host-prep"])
      expect(r.stderr).toContain(service);
    // A service without hosts on this site (keepalived under Pacemaker) has nothing to probe,
    // so it is not offered.
    expect(r.stderr).not.toMatch(/\bkeepalived\b/);
  });

  it("status --only refuses one unknown name among known ones", async () => {
    const r = await runCli(["status", "--only", "galera", "nosuchthing", "-i", lab]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'nosuchthing'");
    expect(r.stderr).not.toContain("'galera'");
  });

  it("ha evacuate refuses a host that is not a compute, and acts only with --yes, before reading anything", async () => {
    for (const host of ["cmp9", "ctl1"]) {
      const r = await runCli(["ha", "evacuate", host, "--dry-run", "-i", lab]);
      expect(r.code, host).toBe(1);
      expect(r.stderr).toContain(
        `error[E_UNKNOWN_NAME]: Unknown host '${host}': the computes are cmp1, cmp2`,
      );
    }
    const r = await runCli(["ha", "evacuate", "cmp1", "-i", lab]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E_HA_CONFIRM]: Cannot evacuate cmp1: powering a host off needs --yes");
  });

  it("plan --host and render --host refuse a host the inventory lacks", async () => {
    const out = await mkdtemp(join(tmpdir(), "hastack-names-"));
    for (const args of [
      ["plan", "--host", "ctl9", "-i", lab],
      ["render", "--host", "ctl1", "ctl9", "--masked", "--out", out, "-i", lab],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(
        "error[E_UNKNOWN_NAME]: Unknown --host 'ctl9': the hosts of the inventory are ctl1,",
      );
    }
    const ok = await runCli(["plan", "--json", "--host", "ctl2", "-i", lab]);
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { host: string }[]).map((p) => p.host)).toEqual(["ctl2"]);
  });

  it("secrets set refuses a malformed name and a name nothing uses, storing neither", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hastack-names-"));
    const inventory = join(dir, "site.yaml");
    await copyFile(lab, inventory);
    expect((await runCli(["secrets", "init", "-i", inventory])).code).toBe(0);
    const before = await readFile(join(dir, "site.secrets.yaml"), "utf8");

    const bad = await runCli(["secrets", "set", "Bad-Name", "-i", inventory], { stdin: "value1234" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[E_SECRET_NAME]: Cannot set 'Bad-Name'");

    const unused = await runCli(["secrets", "set", "bmc_ctl9", "-i", inventory], { stdin: "value1234" });
    expect(unused.code).toBe(1);
    expect(unused.stderr).toContain("error[E_SECRET_UNKNOWN]: Cannot set 'bmc_ctl9'");
    expect(unused.stderr).toContain("bmc_ctl1");
    expect(unused.stderr).toContain("db_root");
    expect(await readFile(join(dir, "site.secrets.yaml"), "utf8")).toBe(before);

    // The names the inventory asks for (BMC passwords) and generated ones are accepted.
    for (const name of ["bmc_ctl1", "db_root"]) {
      const r = await runCli(["secrets", "set", name, "-i", inventory], { stdin: "Value-1234" });
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
