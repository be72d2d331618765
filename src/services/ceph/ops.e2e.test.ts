/**
 * The book's Ceph operations on the lab (three storage hosts, one monitor, manager and file OSD
 * each, three copies): a changed ceph.conf restarts the daemons host by host and a no-op deploy
 * restarts nothing; replace-osd refuses to drain when no other host could take the copies and
 * replaces in place; the osd-kill and mon-lost drills keep RBD writes going and end in HEALTH_OK.
 * `ceph status` is sampled throughout: no PG may fall below min_size, the quorum never below two.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackAsync, hastackSync } from "../../testing/lab-cli.ts";

const hastack = (args: string[], timeoutMs = 1_800_000) => hastackSync(args, timeoutMs);

let lab: LabHandle;

async function sh(host: string, script: string) {
  return lab.ssh(host, ["bash", "-c", script]);
}

interface Sample {
  states: string[];
  quorum: number;
}

/** Samples `ceph status` from the first storage host that answers, every second, until stopped. */
function sampler(): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const h of ["sto1", "sto2", "sto3"]) {
        const r = await sh(h, "timeout 10 ceph status -f json").catch(() => undefined);
        const st = JSON.parse(r?.stdout || "{}") as {
          quorum_names?: string[];
          pgmap?: { pgs_by_state?: { state_name: string }[] };
        };
        if (!st.pgmap?.pgs_by_state) continue;
        samples.push({
          states: st.pgmap.pgs_by_state.map((p) => p.state_name),
          quorum: st.quorum_names?.length ?? 0,
        });
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return samples;
    },
  };
}

/** Below min_size is "peered" or worse; a brief "peering" is every OSD stop's or start's. */
function belowMinSize(samples: Sample[]): string[] {
  return samples
    .flatMap((s) => s.states)
    .filter((s) => s.split("+").some((p) => ["peered", "down", "incomplete"].includes(p)));
}

async function waitHealthOk(): Promise<void> {
  let health = "";
  for (let i = 0; i < 150 && health !== "HEALTH_OK"; i++) {
    const r = await sh("sto1", "timeout 10 ceph health -f json");
    health = (JSON.parse(r.stdout || "{}") as { status?: string }).status ?? r.stderr;
    if (health !== "HEALTH_OK") await new Promise((r) => setTimeout(r, 2000));
  }
  expect(health).toBe("HEALTH_OK");
}

/** Start times (epoch s) of every ceph daemon on a host, by unit-like name. */
async function started(host: string): Promise<Record<string, number>> {
  const r = await sh(
    host,
    // Boot time plus the process's start in clock ticks (/proc/<pid>/stat field 22): the same
    // number at every sample. now - etimes was not: it moved by a second between two samples.
    `bt=$(awk '/^btime/ {print $2}' /proc/stat); hz=$(getconf CLK_TCK); for p in $(pgrep -x 'ceph-(mon|mgr|osd)'); do echo "$(cat /proc/$p/comm)@$(tr '\\0' ' ' < /proc/$p/cmdline | sed -E 's/.*--id ([^ ]+).*/\\1/') $(( bt + $(awk '{print $22}' /proc/$p/stat) / hz ))"; done`,
  );
  return Object.fromEntries(
    r.stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" "))
      .map(([k, v]) => [k ?? "", Number(v)]),
  );
}

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
  const inv = YAML.parse(await fs.readFile(lab.inventoryPath, "utf8")) as { services?: { ceph?: unknown } };
  if (!inv.services?.ceph)
    throw new Error(`${lab.inventoryPath} has no services.ceph: run ceph.e2e.test.ts first`);
  expect(hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]).code).toBe(0);
  await waitHealthOk();
}, 1_800_000);

describe("Ceph operations on the lab", () => {
  it("restarts every daemon for a changed ceph.conf, host by host, and a no-op deploy restarts nothing", {
    timeout: 3_600_000,
  }, async () => {
    // A copy of the lab's inventory beside it (same keys, known hosts, secrets) with one ceph.conf change.
    const copy = path.join(path.dirname(lab.inventoryPath), "inventory-ceph-conf-change.yaml");
    const inv = YAML.parse(await fs.readFile(lab.inventoryPath, "utf8")) as Record<string, unknown>;
    inv.secrets_file = "./inventory.secrets.yaml";
    inv.overrides = [
      ...((inv.overrides as unknown[]) ?? []),
      { file: "/etc/ceph/ceph.conf", section: "osd", set: { osd_scrub_load_threshold: 5 } },
    ];
    await fs.writeFile(copy, YAML.stringify(inv));
    const hosts = ["sto1", "sto2", "sto3"];
    const before = Object.fromEntries(
      await Promise.all(hosts.map(async (h) => [h, await started(h)] as const)),
    );
    const begin = Math.floor(Date.now() / 1000);
    const s = sampler();
    const changed = await hastackAsync(["deploy", "-i", copy, "--quiet"]);
    const samples = await s.stop();
    process.stderr.write(changed.out.slice(-2000));
    expect(changed.code).toBe(0);
    expect((await sh("sto1", "grep osd_scrub_load_threshold /etc/ceph/ceph.conf")).stdout).toContain("5");
    const after = Object.fromEntries(
      await Promise.all(hosts.map(async (h) => [h, await started(h)] as const)),
    );
    for (const h of hosts) {
      expect(Object.keys(after[h] ?? {}).sort()).toEqual(Object.keys(before[h] ?? {}).sort());
      for (const [daemon, at] of Object.entries(after[h] ?? {}))
        expect(at, `${h} ${daemon}`).toBeGreaterThanOrEqual(begin);
    }
    // Host by host: in the order their monitors restarted, each host's OSD was back before the
    // next host's monitor went.
    const at = (h: string, kind: string) =>
      Object.entries(after[h] ?? {}).find(([k]) => k.startsWith(kind))?.[1] ?? 0;
    const order = [...hosts].sort((a, b) => at(a, "ceph-mon") - at(b, "ceph-mon"));
    for (let i = 1; i < order.length; i++)
      expect(at(order[i - 1] ?? "", "ceph-osd")).toBeLessThanOrEqual(at(order[i] ?? "", "ceph-mon"));
    process.stderr.write(
      `conf change: ${samples.length} samples, states ${[...new Set(samples.flatMap((x) => x.states))].join(", ")}\n`,
    );
    expect(samples.length).toBeGreaterThan(10);
    expect(belowMinSize(samples)).toEqual([]);
    expect(Math.min(...samples.map((x) => x.quorum))).toBeGreaterThanOrEqual(2);
    expect((await sh("sto1", "ceph osd dump -f json")).stdout).not.toMatch(/noout/);
    // Back to the lab's own ceph.conf: restarted once more; then a deploy that writes nothing restarts nothing.
    expect(hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]).code).toBe(0);
    const settled = Object.fromEntries(
      await Promise.all(hosts.map(async (h) => [h, await started(h)] as const)),
    );
    const noop = hastack(["deploy", "-i", lab.inventoryPath, "--quiet"]);
    expect(noop.code).toBe(0);
    expect(noop.out).toMatch(/\b0 changed\b/);
    for (const h of hosts) expect(await started(h)).toEqual(settled[h]);
    await fs.rm(copy);
  });

  it("refuses to drain an OSD no other host could take the copies of, then replaces it in place", {
    timeout: 3_600_000,
  }, async () => {
    await waitHealthOk();
    const device = "/var/lib/ceph/disk/osd-block";
    const refused = hastack(["ceph", "replace-osd", "sto3", device, "-i", lab.inventoryPath]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(
      /Cannot replace osd\.\d+ on sto3: draining it needs 3 other hosts with OSDs to hold every copy, and there are 2/,
    );
    const tree = JSON.parse((await sh("sto1", "ceph osd tree -f json")).stdout) as {
      nodes: { type: string; status?: string; reweight?: number }[];
    };
    expect(tree.nodes.filter((n) => n.type === "osd" && n.status === "up" && n.reweight === 1).length).toBe(
      3,
    );
    expect(hastack(["ceph", "replace-osd", "sto3", "/dev/sdz", "-i", lab.inventoryPath]).out).toMatch(
      /Unknown device '\/dev\/sdz'/,
    );
    const s = sampler();
    const replaced = await hastackAsync([
      "ceph",
      "replace-osd",
      "sto3",
      device,
      "--in-place",
      "--json",
      "-i",
      lab.inventoryPath,
    ]);
    const samples = await s.stop();
    process.stderr.write(replaced.out.slice(-2000));
    expect(replaced.code).toBe(0);
    const report = JSON.parse(replaced.stdout) as {
      osd: number;
      mode: string;
      oldUuid: string;
      newUuid: string;
      backfillMs: number;
    };
    expect(report.mode).toBe("in-place");
    expect(report.newUuid).not.toBe(report.oldUuid);
    process.stderr.write(
      `replace-osd in place: backfill ${(report.backfillMs / 1000).toFixed(1)} s, ${samples.length} samples\n`,
    );
    expect(belowMinSize(samples)).toEqual([]);
    expect((await sh("sto3", `cat /var/lib/ceph/osd/ceph-${report.osd}/whoami`)).stdout.trim()).toBe(
      String(report.osd),
    );
    await waitHealthOk();
  });

  for (const drill of ["osd-kill", "mon-lost"] as const)
    it(`${drill}: RBD writes go on, no write is lost, HEALTH_OK again`, { timeout: 1_800_000 }, async () => {
      await waitHealthOk();
      const r = await hastackAsync(["ceph", "drill", drill, "--json", "-i", lab.inventoryPath]);
      process.stderr.write(r.out.slice(-3000));
      const out = JSON.parse(r.stdout) as {
        verdict: string;
        runs: {
          stallMs: number;
          healthOkMs?: number;
          verified?: { lost: number; checked: number };
          timings: { label: string }[];
        }[];
      };
      // The stall budget is a bench:lab figure: passed or slow are both safe and recovered.
      expect(["passed", "slow"]).toContain(out.verdict);
      expect([0, 3]).toContain(r.code);
      const run = out.runs[0];
      expect(run?.verified?.lost).toBe(0);
      expect(run?.verified?.checked).toBeGreaterThan(100);
      expect(run?.healthOkMs).toBeGreaterThan(0);
      const labels = run?.timings.map((t) => t.label).join(", ") ?? "";
      expect(labels).toMatch(drill === "osd-kill" ? /up again/ : /quorum of .*back in quorum/);
    });
});
