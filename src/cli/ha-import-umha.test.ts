/**
 * `hastack ha import-umha` as a user runs it: the dry run prints the fragment, the secrets' names
 * and the report and writes nothing; --write edits and stores; a refusal is an error. The
 * mapping itself: src/instance-ha/umha/import.test.ts.
 */
import { readFile, stat } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { SAMPLE_CONF, umhaSite } from "../instance-ha/umha/test-files.ts";
import { runCli } from "../testing/run-cli.ts";

const passwords = /root:123|root456|root789|mail-pw-7731|keystone-admin-pw|umha-db-pw/;

describe("hastack ha import-umha", { timeout: 120_000 }, () => {
  it("without --write prints what it would merge, the secrets' names and why each key maps or not", async () => {
    const site = await umhaSite();
    const before = await readFile(site.inventory, "utf8");
    const r = await runCli(["ha", "import-umha", site.umha, "-i", site.inventory]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "To merge into the inventory:\n  hosts:\n    cmp1:\n      bmc:\n        address: 10.29.0.121\n",
    );
    expect(r.stdout).toContain("    missed_heartbeats: 3\n");
    expect(r.stdout).toContain("(values not shown): bmc_cmp1, bmc_cmp2, instance_ha_smtp\n");
    expect(r.stdout).toMatch(
      /not-imported {2}umha\.conf \[time\] ha_check_interval = 180: replaced by 1 s heartbeats/,
    );
    expect(r.stdout).toMatch(
      /warning {7}ipmi_info line 3 \(node-9\.lab\.example\): node-9 is not a host of the inventory/,
    );
    expect(r.stdout).toContain("Nothing written: run again with --write");
    expect(r.stdout).not.toMatch(passwords);
    expect(await readFile(site.inventory, "utf8")).toBe(before);
    await expect(stat(site.secrets)).rejects.toThrow();
  });

  it("--write edits the inventory and stores the passwords, printing none", async () => {
    const site = await umhaSite();
    const r = await runCli(["ha", "import-umha", site.umha, "-i", site.inventory, "--write"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("Merged into the inventory:");
    expect(r.stdout).not.toMatch(passwords);
    expect(await readFile(site.inventory, "utf8")).toContain("password_secret: bmc_cmp1");
    expect(await readFile(site.secrets, "utf8")).toContain("bmc_cmp1: root:123");
  });

  it("refuses UMHA's settings without fencing, saying what to provide", async () => {
    const site = await umhaSite({ conf: SAMPLE_CONF.replace("has_IPMI = true", "has_IPMI = false") });
    const r = await runCli(["ha", "import-umha", site.umha, "-i", site.inventory, "--write"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("error[E_UMHA_REFUSED]: Cannot import umha.conf: has_IPMI = false (line 3)");
    expect(r.stderr).toContain("give every compute a BMC");
  });
});
