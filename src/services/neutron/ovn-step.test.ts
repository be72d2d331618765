import { describe, expect, it } from "vitest";
import { makeStepContext } from "../../deploy/context.ts";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { ovnClusterStep } from "./ovn-step.ts";
import { fixture, labClusterStatus } from "./test-fixtures.ts";

const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const step = ovnClusterStep(["ctl1", "ctl2", "ctl3"]);
const STATUS =
  /^ovn-appctl -t \/var\/run\/ovn\/ovn(nb|sb)_db\.ctl cluster\/status OVN_(Northbound|Southbound)$/;
const run = (host: string, transport: ReturnType<typeof recordingTransport>) =>
  runStep({ service: "neutron", step, host, topology, services: registry, transport, secrets: {} });

/** ovsdb-client list-dbs on this host's client ports: both servers answer there. */
function listDbs(argv: string, ip: string): { stdout: string } | undefined {
  if (argv === `ovsdb-client --timeout=10 list-dbs tcp:${ip}:6641`)
    return { stdout: "OVN_Northbound\n_Server\n" };
  if (argv === `ovsdb-client --timeout=10 list-dbs tcp:${ip}:6642`)
    return { stdout: "OVN_Southbound\n_Server\n" };
  return undefined;
}

const changes = (t: ReturnType<typeof recordingTransport>) =>
  t.seen.map((s) => s.argv).filter((a) => /^systemctl (enable|start|restart) /.test(a));

describe("the OVN clusters on a controller", () => {
  it("ctl2, first run: enables ovn-central, starts the servers and northd, and is done once a member with a leader", async () => {
    let started = false;
    const t = recordingTransport("ctl2", (argv) => {
      if (argv.startsWith("systemctl is-enabled")) return started ? {} : { code: 1 };
      if (argv.startsWith("systemctl is-active")) return started ? {} : { code: 3 };
      if (argv.startsWith("systemctl start")) started = true;
      const db = STATUS.exec(argv)?.[1] as "nb" | "sb" | undefined;
      if (db) return started ? { stdout: labClusterStatus("ovn-ctl-follower.txt", db) } : { code: 1 };
      return listDbs(argv, "10.20.0.12") ?? (argv.startsWith("systemctl") ? {} : undefined);
    });
    const r = await run("ctl2", t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toContain("ovn-central.service not enabled");
    expect(changes(t)).toEqual([
      "systemctl enable ovn-central.service",
      "systemctl start ovn-central.service ovn-ovsdb-server-nb.service ovn-ovsdb-server-sb.service ovn-northd.service",
    ]);
  });

  it("restarts servers that run standalone (the package's first start): ovn-ctl then makes them clustered", async () => {
    let restarted = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.startsWith("systemctl restart ovn-ovsdb-server")) restarted = true;
      const db = STATUS.exec(argv)?.[1] as "nb" | "sb" | undefined;
      if (db)
        return restarted
          ? { stdout: labClusterStatus("ovn-ctl-leader.txt", db) }
          : {
              code: 2,
              stderr:
                '"cluster/status" is not a valid command (use "list-commands" to see a list of valid commands)\novn-appctl: /var/run/ovn/ovnnb_db.ctl: server returned an error',
            };
      return listDbs(argv, "10.20.0.11") ?? (argv.startsWith("systemctl") ? {} : undefined);
    });
    const r = await run("ctl1", t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toContain(
      "nb: not clustered (ovn-appctl: /var/run/ovn/ovnnb_db.ctl: server returned an error)",
    );
    expect(changes(t)).toEqual(["systemctl restart ovn-ovsdb-server-nb.service ovn-ovsdb-server-sb.service"]);
  });

  it("asks only for the controllers up to itself: ctl1 alone is done, ctl3 needs ctl1..ctl3", async () => {
    const alone = (db: "nb" | "sb") =>
      labClusterStatus("ovn-ctl-leader.txt", db)
        .split("\n")
        .filter((l) => !/ at tcp:10\.20\.0\.1[23]:/.test(l))
        .join("\n");
    const answering = (host: string, ip: string, text: (db: "nb" | "sb") => string) =>
      recordingTransport(host, (argv) => {
        const db = STATUS.exec(argv)?.[1] as "nb" | "sb" | undefined;
        if (db) return { stdout: text(db) };
        return listDbs(argv, ip) ?? (argv.startsWith("systemctl") ? {} : undefined);
      });
    expect(await step.check?.(ctxFor("ctl1", answering("ctl1", "10.20.0.11", alone)))).toBe(true);
    const log: string[] = [];
    expect(await step.check?.(ctxFor("ctl3", answering("ctl3", "10.20.0.13", alone), log))).toBe(false);
    expect(log[0]).toContain("nb: not members: tcp:10.20.0.12:6643, tcp:10.20.0.13:6643");
    expect(log[0]).toContain("sb: not members: tcp:10.20.0.12:6644, tcp:10.20.0.13:6644");
    const full = (db: "nb" | "sb") => labClusterStatus("ovn-ctl-leader.txt", db);
    expect(await step.check?.(ctxFor("ctl3", answering("ctl3", "10.20.0.13", full)))).toBe(true);
  });

  it("is not done while a server is joining, or lists a member the inventory lacks, or does not answer clients", async () => {
    const t = recordingTransport("ctl3", (argv) => {
      if (argv.includes("ovnnb_db.ctl")) return { stdout: fixture("raft-joining.txt") };
      if (argv.includes("ovnsb_db.ctl"))
        return { stdout: fixture("raft-leader.txt").replaceAll("Northbound", "Southbound") };
      if (argv.startsWith("ovsdb-client")) return { code: 1, stderr: "Connection refused" };
      return argv.startsWith("systemctl") ? {} : undefined;
    });
    const log: string[] = [];
    expect(await step.check?.(ctxFor("ctl3", t, log))).toBe(false);
    expect(log[0]).toContain("nb: status: joining cluster; nb: no leader");
    expect(log[0]).toContain("nb: no OVN_Northbound at tcp:10.20.0.13:6641");
    expect(log[0]).toContain("sb: members not in the inventory: tcp:127.0.0.1:16663");
  });
});

/** A step context on one host, its log collected (for checks run alone). */
function ctxFor(host: string, transport: ReturnType<typeof recordingTransport>, log: string[] = []) {
  const logger = (m: string) => log.push(m);
  return makeStepContext({
    step: "neutron.ovn",
    host,
    topology,
    services: registry,
    files: new Map(),
    transports: new Map([[host, transport]]),
    dryRun: false,
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    log: { info: logger, warn: logger, debug: () => {} },
    secrets: {},
    redact: (text) => text,
  });
}
