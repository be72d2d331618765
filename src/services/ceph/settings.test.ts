import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { exampleTopology } from "../../testing/fixtures.ts";
import { runCli } from "../../testing/run-cli.ts";
import { cephFsid } from "./settings.ts";

interface Reported {
  line: number;
  code: string;
  message: string;
}

/** `hastack validate --json` on the lab example with `ceph` replaced: what an operator sees. */
interface Inv {
  services: Record<string, unknown>;
  hosts: Record<string, Record<string, unknown>>;
  waivers?: Record<string, string>;
}

async function validate(ceph: Record<string, unknown>, edit?: (inv: Inv) => void) {
  const inv = YAML.parse(await readFile("examples/lab.yaml", "utf8")) as Inv;
  inv.services.ceph = ceph;
  edit?.(inv);
  const file = join(await mkdtemp(join(tmpdir(), "hastack-ceph-")), "site.yaml");
  await writeFile(file, YAML.stringify(inv));
  const r = await runCli(["validate", "-i", file, "--json"]);
  const problems = (JSON.parse(r.stdout) as { problems: Reported[] }).problems;
  return { code: r.code, problems, text: YAML.stringify(inv).split("\n") };
}

describe("services.ceph validation", () => {
  it("accepts the lab's settings", async () => {
    const r = await validate({ osd_file: { size_gb: 8 } });
    expect(r.problems).toEqual([]);
    expect(r.code).toBe(0);
  });

  it("refuses more replicas than hosts, min_size above size, uneven PGs, OSDs off storage hosts; each at its line", async () => {
    const r = await validate({
      osd_file: { size_gb: 8 },
      pools: { size: 4, min_size: 5, pg_num: 48 },
      osd_devices: { ctl1: ["/dev/sdb"] },
    });
    const codes = r.problems.map((p) => p.code).sort();
    expect(codes).toEqual(["E_CEPH_OSD_HOST", "E_CEPH_PG_NUM", "E_CEPH_REPLICAS", "E_CEPH_REPLICAS"]);
    const size = r.problems.find((p) => p.message.includes("pools.size"));
    expect(size?.message).toContain("more than the 3 host(s) with OSDs");
    // The line the problem points at is the line that says it.
    expect(r.text[(size?.line ?? 0) - 1]).toMatch(/size: 4/);
    const host = r.problems.find((p) => p.code === "E_CEPH_OSD_HOST");
    expect(host?.message).toContain("ctl1 is not a storage host");
    // At ctl1's list (YAML puts its first item on the next line).
    expect(r.text.slice((host?.line ?? 0) - 2, host?.line).join("\n")).toMatch(/ctl1:\n\s+- \/dev\/sdb/);
  });

  it("counts OSDs, not hosts, when the failure domain is osd", async () => {
    const devices = { sto1: ["/dev/sdb", "/dev/sdc"], sto2: ["/dev/sdb"], sto3: ["/dev/sdb"] };
    const byHost = await validate({ osd_devices: devices, pools: { size: 4, min_size: 2 } });
    expect(byHost.problems.map((p) => p.code)).toEqual(["E_CEPH_REPLICAS"]);
    const byOsd = await validate({
      osd_devices: devices,
      failure_domain: "osd",
      pools: { size: 4, min_size: 2 },
    });
    expect(byOsd.problems).toEqual([]);
  });

  it("names a storage host without OSDs, ratios out of order, and an even monitor count", async () => {
    const r = await validate(
      {
        osd_devices: { sto1: ["/dev/sdb"], sto2: ["/dev/sdb"] },
        pools: { size: 2 },
        full_ratio: 0.8,
        capacity_warn_ratio: 0.9,
        mons: "controller",
      },
      (inv) => {
        const { bmc: _none, ...ctl3 } = inv.hosts.ctl3 ?? {};
        inv.hosts.ctl4 = { ...ctl3, addresses: { management: "10.20.0.14" } };
        inv.waivers = { controller_count: "test of the Ceph monitor count only" };
      },
    );
    const messages = r.problems.map((p) => `${p.code}: ${p.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/E_CEPH_OSD_HOST: .*storage host sto3 has no OSD device/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/E_CEPH_RATIOS: .*full_ratio 0.8 does not hold/));
    expect(messages).toContainEqual(
      expect.stringMatching(/E_CEPH_RATIOS: .*capacity_warn_ratio 0.9 is not below nearfull_ratio 0.85/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/E_CEPH_MONS: .*4 monitors on the controller hosts/),
    );
  });

  it("derives a stable fsid per site, a valid v4 UUID, unless the inventory sets one", () => {
    const a = cephFsid(exampleTopology("lab"));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(cephFsid(exampleTopology("lab"))).toBe(a);
    expect(cephFsid(exampleTopology("runbook-9-node"))).not.toBe(a);
    const fixed = "0b9c5c1e-3c3e-4b43-9a5e-2f1b7e0c4d11";
    expect(
      cephFsid(exampleTopology("lab", (inv) => Object.assign(inv.services?.ceph as object, { fsid: fixed }))),
    ).toBe(fixed);
  });
});
