import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { services } from "../../services/registry.ts";
import type { ServiceDef } from "../../services/types.ts";
import { exampleTopology, generatedSecrets } from "../../testing/fixtures.ts";
import { LocalTransport } from "../../transport/local-transport.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { collectDiagnostics, journalTime, parseSince } from "./collect.ts";
import { formatReport, writeTarball } from "./report.ts";

const topology = exampleTopology("lab");

/**
 * A service whose log leaked every secret of a freshly generated secrets file (what a careless
 * agent or a debug line could print), read by a real shell on this machine.
 */
async function leakyService(secrets: Record<string, string>): Promise<ServiceDef> {
  const dir = await mkdtemp(join(tmpdir(), "hastack-diag-"));
  const log = join(dir, "daemon.log");
  await writeFile(
    log,
    Object.entries(secrets)
      .map(([k, v]) => `debug: ${k} is ${v}\n`)
      .join(""),
  );
  return {
    id: "leaky",
    title: "a daemon that logs its secrets",
    state: "implemented",
    hosts: () => ["ctl1", "ctl2"],
    diagnostics: () => [
      { id: "log", title: "its log", argv: (w) => ["sh", "-c", `echo "since ${w.since}"; cat ${log}`] },
    ],
  };
}

const window = { since: new Date("2026-12-02T04:20:00Z"), until: new Date("2026-12-02T04:30:00Z") };

describe("hastack diagnose", () => {
  it("masks every secret of the site in the report and in every file of the tarball", async () => {
    const secrets = generatedSecrets(topology);
    const transport = (host: string): Transport => {
      if (host === "ctl2") throw new HastackError("E_SSH_CONNECT", `Cannot connect to ${host}: no route`);
      return new LocalTransport({ name: host });
    };
    const report = await collectDiagnostics(topology, {
      transport,
      secrets,
      services: [await leakyService(secrets)],
      window,
    });
    const text = formatReport(report);
    expect(text).toContain("since 2026-12-02 04:20:00 UTC");
    expect(text).toContain("<secret:db_probe>");
    // The unreachable host is in the report, not a stop.
    expect(report.outputs.find((o) => o.host === "ctl2")?.output).toContain(
      "not gathered: Cannot connect to ctl2",
    );
    const dir = await mkdtemp(join(tmpdir(), "hastack-diag-out-"));
    await writeTarball(report, join(dir, "d.tar.gz"));
    const tar = spawnSync("tar", ["-xzf", join(dir, "d.tar.gz"), "-C", dir]);
    expect(tar.status).toBe(0);
    const files = [
      await readFile(join(dir, "hastack-diagnose-lab", "report.txt"), "utf8"),
      await readFile(join(dir, "hastack-diagnose-lab", "ctl1", "leaky-log.txt"), "utf8"),
    ];
    expect(files[1]).toContain("<secret:corosync_authkey>");
    const values = Object.values(secrets).filter((v) => v.length >= 6);
    expect(values.length).toBeGreaterThan(10);
    for (const content of [text, ...files])
      for (const [name, value] of Object.entries(secrets)) expect(content.includes(value), name).toBe(false);
  });

  it("asks every deployed base service's hosts, never a declared one", async () => {
    const asked: string[] = [];
    const transport = (host: string) =>
      ({
        name: host,
        exec: async (argv: string[]) => {
          asked.push(`${host} ${argv.join(" ")}`);
          return { code: 0, stdout: "", stderr: "", durationMs: 1 };
        },
      }) as unknown as Transport;
    const report = await collectDiagnostics(topology, { transport, secrets: {}, services, window });
    const ids = new Set(report.outputs.map((o) => `${o.service}.${o.id}`));
    expect([...ids]).toEqual(
      expect.arrayContaining([
        "host-prep.host",
        "pacemaker.state",
        "pacemaker.journal",
        "galera.state",
        "etcd.state",
      ]),
    );
    expect([...ids].some((id) => id.startsWith("nova."))).toBe(false);
    expect(asked).toContain(
      "ctl1 journalctl --no-pager --output=short-iso-precise --since=2026-12-02 04:20:00 UTC --until=2026-12-02 04:30:00 UTC --unit=corosync --unit=pacemaker",
    );
    expect(report.outputs.filter((o) => o.id === "host").map((o) => o.host)).toEqual(
      topology.hosts.map((h) => h.name),
    );
  });

  it("reads --since as a duration ago or a timestamp, and says when it is neither", () => {
    const now = new Date("2026-12-02T04:30:00Z");
    expect(journalTime(parseSince("10m", now))).toBe("2026-12-02 04:20:00 UTC");
    expect(journalTime(parseSince("2026-12-02T03:00:00Z", now))).toBe("2026-12-02 03:00:00 UTC");
    expect(() => parseSince("yesterday-ish", now)).toThrow(
      expect.objectContaining({ code: "E_DIAGNOSE_SINCE" }),
    );
  });
});
