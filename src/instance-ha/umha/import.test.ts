/**
 * The import against real files: UMHA's sample files written to a temp directory, imported into
 * a copy of the lab's inventory, the result loaded by the real loader with the services registry.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readSecrets } from "../../inventory/secrets-file.ts";
import { services } from "../../services/registry.ts";
import { loadTopology } from "../../topology/load.ts";
import { caught } from "../store-test-db.ts";
import { planUmhaImport, writeUmhaImport } from "./import.ts";
import { importFragment } from "./report.ts";
import { SAMPLE_CONF, SAMPLE_IPMI, umhaSite } from "./test-files.ts";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe("importing UMHA's files into an inventory", () => {
  it("adds each compute's BMC and storage address and the mapped settings; the result validates", async () => {
    const site = await umhaSite();
    const before = await readFile(site.inventory, "utf8");
    const plan = await planUmhaImport(site.umha, site.inventory, services);
    expect(Object.keys(plan.secrets).sort()).toEqual(["bmc_cmp1", "bmc_cmp2", "instance_ha_smtp"]);
    await writeUmhaImport(plan, services);

    const topology = await loadTopology(site.inventory, services);
    const host = (name: string) => topology.hosts.find((h) => h.name === name);
    expect(host("cmp1")?.bmc).toMatchObject({
      address: "10.29.0.121",
      user: "admin",
      password_secret: "bmc_cmp1",
      port: 623,
    });
    expect(host("cmp2")?.addresses.storage).toBe("10.21.0.22");
    expect(topology.instanceHa).toMatchObject({
      heartbeat_interval_s: 1,
      missed_heartbeats: 3,
      max_failed_hosts: 5,
      max_failed_percent: 59,
      notify: {
        interval_s: 10_800,
        smtp: {
          host: "mail.lab.example",
          port: 587,
          from: "umha@lab.example",
          to: ["ops@lab.example", "oncall@lab.example"],
          username: "umha@lab.example",
          password_secret: "instance_ha_smtp",
        },
      },
    });
    expect(topology.hosts.map((h) => h.name)).not.toContain("node-9");

    // The passwords, in the secrets file only, private; cmp1's holds the ':' UMHA's line had.
    expect(await readSecrets(site.secrets)).toEqual({
      bmc_cmp1: "root:123",
      bmc_cmp2: "root456",
      instance_ha_smtp: "mail-pw-7731",
    });
    expect((await stat(site.secrets)).mode & 0o777).toBe(0o600);
    const after = await readFile(site.inventory, "utf8");
    for (const secret of ["root:123", "root456", "mail-pw-7731"]) expect(after).not.toContain(secret);

    // Comments and every original line kept, in order: the edit only inserted lines.
    expect(after).toContain("# Nova and Neutron run on the lab");
    expect(after).toContain("roles: [compute]");
    const lines = after.split("\n");
    let at = 0;
    for (const line of before.split("\n")) {
      at = lines.indexOf(line, at);
      expect(at, line).toBeGreaterThanOrEqual(0);
      at++;
    }
    expect(lines.length - before.split("\n").length).toBe(4 + 1 + 15);
  });

  it("a second import finds nothing to do", async () => {
    const site = await umhaSite();
    await writeUmhaImport(await planUmhaImport(site.umha, site.inventory, services), services);
    const again = await planUmhaImport(site.umha, site.inventory, services);
    expect(again.settings).toEqual([]);
    expect(again.secrets).toEqual({});
    expect(importFragment(again)).toBe("");
    expect(again.report.filter((r) => r.outcome === "set")).toEqual([]);
  });

  it("reports every key it does not map, and the host the inventory lacks, with why", async () => {
    const site = await umhaSite({
      conf: SAMPLE_CONF.replace("really_evacuate = true", "really_evacuate = false"),
    });
    const plan = await planUmhaImport(site.umha, site.inventory, services);
    const about = (subject: string) => plan.report.find((r) => r.subject.includes(subject));
    expect(about("ha_check_interval = 180")).toMatchObject({
      outcome: "not-imported",
      detail: expect.stringMatching(/1 s heartbeats/),
    });
    expect(about("continue_count = 5")).toMatchObject({ outcome: "not-imported" });
    expect(about("really_evacuate = false")).toMatchObject({
      outcome: "warning",
      detail: expect.stringMatching(/no dry-run switch/),
    });
    expect(about("node-9.lab.example")).toMatchObject({
      outcome: "warning",
      detail: expect.stringMatching(/not a host of the inventory: not added/),
    });
    expect(about("[auth] auth_url, admin_password")).toMatchObject({ outcome: "not-imported" });
    expect(plan.notes.join("\n")).toContain(
      "matched to the inventory by their short name (cmp1.lab.example -> cmp1)",
    );
    // Each key of the sample conf has a line (the importer maps or explains all of them).
    for (const key of SAMPLE_CONF.matchAll(/^(\w+) =/gm))
      expect(
        plan.report.some((r) => r.subject.includes(key[1] ?? "?")),
        key[1],
      ).toBe(true);
    expect(JSON.stringify(plan.report)).not.toMatch(/keystone-admin-pw|umha-db-pw|mail-pw-7731|root456/);
  });
});

describe("the import refuses, writing nothing", () => {
  async function refused(site: Awaited<ReturnType<typeof umhaSite>>, run: () => Promise<unknown>) {
    const before = await readFile(site.inventory, "utf8");
    const hadSecrets = await exists(site.secrets);
    const e = await caught(run());
    expect(await readFile(site.inventory, "utf8")).toBe(before);
    if (!hadSecrets) expect(await exists(site.secrets)).toBe(false);
    return e;
  }

  it("UMHA without fencing (has_IPMI = false): hastack never evacuates an unfenced host", async () => {
    const site = await umhaSite({ conf: SAMPLE_CONF.replace("has_IPMI = true", "has_IPMI = false") });
    const e = await refused(site, () => planUmhaImport(site.umha, site.inventory, services));
    expect(e.code).toBe("E_UMHA_REFUSED");
    expect(e.message).toContain("has_IPMI = false (line 3)");
    expect(e.hint).toMatch(/give every compute a BMC/);
  });

  it("a host whose BMC or storage address differs from UMHA's, naming each", async () => {
    const site = await umhaSite({
      ipmi: SAMPLE_IPMI.replace("10.29.0.122", "10.29.0.99"),
      storage: "cmp1.lab.example:10.21.0.77\n",
    });
    const e = await refused(site, () => planUmhaImport(site.umha, site.inventory, services));
    expect(e.code).toBe("E_UMHA_CONFLICT");
    expect(e.message).toContain(
      "cmp2: the inventory's BMC is admin@10.29.0.122, ipmi_info line 2 says admin@10.29.0.99",
    );
    expect(e.message).toContain(
      "cmp1: the inventory's storage address is 10.21.0.21, node_storage_ip_info line 1 says 10.21.0.77",
    );
    expect(e.message).not.toContain("root456");
  });

  it("a secret the secrets file already holds with another value, without showing either", async () => {
    const site = await umhaSite();
    await writeFile(site.secrets, "bmc_cmp2: the-lab-password\n", { mode: 0o600 });
    const e = await refused(site, () => planUmhaImport(site.umha, site.inventory, services));
    expect(e.code).toBe("E_UMHA_CONFLICT");
    expect(e.message).toContain("secret bmc_cmp2 in");
    expect(e.message).not.toMatch(/the-lab-password|root456/);
    expect(await readSecrets(site.secrets)).toEqual({ bmc_cmp2: "the-lab-password" });
  });

  it("bad lines, each named by file and line, never quoting a password", async () => {
    const site = await umhaSite({
      ipmi: "cmp1.lab.example:10.29.0.121:admin:root:123\n# a comment\ncmp2.lab.example:admin:hunter2-pw\ncmp2.lab.example:10.29.0:admin:hunter3-pw\n",
      storage: "cmp1.lab.example:10.21.0.21\ncmp1.lab.example:10.21.0.23\n",
      conf: SAMPLE_CONF.replace("ha_check_interval = 180", "ha_check_interval = soon"),
    });
    const e = await refused(site, () => planUmhaImport(site.umha, site.inventory, services));
    expect(e.code).toBe("E_UMHA_FILE");
    expect(e.message).toContain("4 bad line(s)");
    expect(e.message).toContain("ipmi_info line 3: expected hostname:ip:username:password, found 3 field(s)");
    expect(e.message).toContain("ipmi_info line 4: ip: not an IPv4 address");
    expect(e.message).toContain("node_storage_ip_info line 2: cmp1 is also on line 1");
    expect(e.message).toMatch(/umha\.conf line \d+: \[time\] ha_check_interval must be a whole number/);
    expect(e.message).not.toMatch(/hunter|root:123/);
  });

  it("a result that would not validate (UMHA's storage address outside the storage network)", async () => {
    const site = await umhaSite({ storage: "cmp2.lab.example:192.168.0.6\n" });
    const plan = await planUmhaImport(site.umha, site.inventory, services);
    const e = await refused(site, () => writeUmhaImport(plan, services));
    expect(e.code).toBe("E_UMHA_INVALID");
    expect(e.message).toContain("hosts.cmp2.addresses.storage");
  });
});

describe("the dry run's fragment", () => {
  it("is YAML rooted like the inventory, with only what the import adds", async () => {
    const site = await umhaSite();
    const fragment = parse(importFragment(await planUmhaImport(site.umha, site.inventory, services)));
    expect(fragment.hosts).toEqual({
      cmp1: { bmc: { address: "10.29.0.121", user: "admin", password_secret: "bmc_cmp1" } },
      cmp2: { addresses: { storage: "10.21.0.22" } },
    });
    expect(Object.keys(fragment.instance_ha)).toEqual([
      "missed_heartbeats",
      "max_failed_hosts",
      "max_failed_percent",
      "notify",
    ]);
  });
});
