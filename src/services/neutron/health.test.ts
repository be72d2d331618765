import { describe, expect, it } from "vitest";
import { sharedAnswers } from "../../health/shared.ts";
import type { ProbeContext, ProbeSpec } from "../../health/types.ts";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { agentsStep } from "./agents-step.ts";
import { parseClusterStatus } from "./cluster-status.ts";
import { judgeChassis, judgeCluster } from "./health.ts";
import { neutron } from "./index.ts";
import { fixture, labClusterStatus } from "./test-fixtures.ts";

const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const SBCTL =
  "ovn-sbctl --db=tcp:10.20.0.11:6642,tcp:10.20.0.12:6642,tcp:10.20.0.13:6642 --no-leader-only --timeout=20 --format=json --columns=name,hostname list Chassis";
const chassisJson = (...names: string[]) =>
  JSON.stringify({ data: names.map((n) => [n, n]), headings: ["name", "hostname"] });

function probe(id: string): ProbeSpec {
  const found = neutron.health?.(topology, registry).find((p) => p.id === id);
  if (!found) throw new Error(`no probe ${id}`);
  return found;
}

function context(
  t: ReturnType<typeof recordingTransport>,
  host?: string,
  asked: string[] = [],
): ProbeContext {
  return {
    topology,
    ...(host ? { host: topology.hosts.find((h) => h.name === host) } : {}),
    transport: () => t,
    exec: (h, command, opts) => {
      asked.push(h);
      return t.exec(command, opts);
    },
    secret: (name) => `value-of-${name}`,
    signal: new AbortController().signal,
    shared: sharedAnswers(),
  };
}

describe("neutron's status probes", () => {
  it("the API on each controller, a token through the VIP, both OVN clusters per controller, the chassis", () => {
    const probes = neutron.health?.(topology, registry) ?? [];
    expect(probes.map((p) => p.id)).toEqual(["neutron_api", "vip-token", "ovn-nb", "ovn-sb", "chassis"]);
    expect(probe("ovn-nb")).toMatchObject({
      on: "each",
      hosts: ["ctl1", "ctl2", "ctl3"],
      weight: "redundant",
    });
  });

  it("a cluster: ok with a leader and every controller a member, named by host; down without quorum", () => {
    const s = (name: "ovn-ctl-leader.txt" | "ovn-ctl-follower.txt") =>
      parseClusterStatus({ name: "ctl2" }, "cluster/status", labClusterStatus(name, "sb"));
    expect(judgeCluster(topology, "sb", s("ovn-ctl-leader.txt"))).toEqual({
      state: "ok",
      summary: "leader, leader ctl1, 3 members",
    });
    expect(judgeCluster(topology, "sb", s("ovn-ctl-follower.txt")).summary).toBe(
      "follower, leader ctl1, 3 members",
    );
    const lost = parseClusterStatus({ name: "ctl2" }, "cluster/status", fixture("raft-no-quorum.txt"));
    const r = judgeCluster(topology, "nb", lost);
    expect(r.state).toBe("down");
    expect(r.summary).toContain("no leader");
  });

  it("the cluster probe asks the controller it runs for, and a standalone server is down", async () => {
    const asked: string[] = [];
    const t = recordingTransport("ctl3", (argv) =>
      argv.includes("ovnsb_db.ctl cluster/status OVN_Southbound")
        ? { code: 2, stderr: '"cluster/status" is not a valid command' }
        : undefined,
    );
    const r = await probe("ovn-sb").run(context(t, "ctl3", asked));
    expect(asked).toEqual(["ctl3"]);
    expect(r).toMatchObject({
      state: "down",
      summary: 'not clustered or not running: "cluster/status" is not a valid command',
    });
  });

  it("chassis: all registered is ok, some missing degraded, none down; asked of the next controller when one fails", async () => {
    expect(judgeChassis(topology, ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"]).state).toBe("ok");
    const parsed = JSON.parse(fixture("sb-chassis.json")).data.map((row: string[]) => row[0]);
    expect(judgeChassis(topology, parsed)).toMatchObject({
      state: "degraded",
      summary: "2/5 chassis registered; missing: ctl2, ctl3, cmp2",
    });
    expect(judgeChassis(topology, []).state).toBe("down");
    const asked: string[] = [];
    let calls = 0;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv !== SBCTL) return undefined;
      calls += 1;
      return calls === 1 ? { code: 1, stderr: "ovn-sbctl: timeout" } : { stdout: fixture("sb-chassis.json") };
    });
    const r = await probe("chassis").run(context(t, undefined, asked));
    expect(asked).toEqual(["ctl1", "ctl2"]);
    expect(r.state).toBe("degraded");
  });
});

describe("the agents step on a compute", () => {
  it("starts the metadata agent and waits until the southbound database lists this chassis", async () => {
    let started = false;
    const t = recordingTransport("cmp1", (argv) => {
      if (argv.startsWith("systemctl is-")) return started ? {} : { code: 3 };
      if (argv.startsWith("systemctl start")) started = true;
      if (argv === SBCTL) return { stdout: started ? fixture("sb-chassis.json") : chassisJson("ctl1") };
      return argv.startsWith("systemctl") ? {} : undefined;
    });
    const r = await runStep({
      service: "neutron",
      step: agentsStep(["cmp1", "cmp2"]),
      host: "cmp1",
      topology,
      services: registry,
      transport: t,
      secrets: {},
    });
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toBe(
      "neutron-ovn-metadata-agent.service not enabled; neutron-ovn-metadata-agent.service not running; chassis cmp1 not in the southbound database (it lists ctl1)",
    );
    expect(t.seen.map((s) => s.argv).filter((a) => /^systemctl (enable|start) /.test(a))).toEqual([
      "systemctl enable neutron-ovn-metadata-agent.service",
      "systemctl start neutron-ovn-metadata-agent.service",
    ]);
  });
});
