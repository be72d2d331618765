import { describe, expect, it } from "vitest";
import { sharedAnswers } from "../../health/shared.ts";
import type { ProbeContext, ProbeSpec } from "../../health/types.ts";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { nova } from "./index.ts";

const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const login =
  'HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAtoken\r\n\r\n{"token":{"expires_at":"2026-12-02T11:00:00Z","catalog":[]}}\n--hastack-status--201';

function probe(id: string): ProbeSpec {
  const found = nova.health?.(topology, registry).find((p) => p.id === id);
  if (!found) throw new Error(`no probe ${id}`);
  return found;
}

/** A probe run whose commands all go to `t`, recording which host each was meant for. */
function context(t: ReturnType<typeof recordingTransport>, hosts: string[] = []): ProbeContext {
  return {
    topology,
    transport: () => t,
    exec: (host, command, opts) => {
      hosts.push(host);
      return t.exec(command, opts);
    },
    secret: (name) => `value-of-${name}`,
    signal: new AbortController().signal,
    shared: sharedAnswers(),
  };
}

const svc = (binary: string, host: string, state = "up") => ({
  binary,
  host,
  state,
  status: "enabled",
  zone: "nova",
});
const ALL_UP = [
  ...["ctl1", "ctl2", "ctl3"].flatMap((h) => [svc("nova-conductor", h), svc("nova-scheduler", h)]),
  svc("nova-compute", "cmp1"),
  svc("nova-compute", "cmp2"),
];

function answering(body: unknown, status = 200) {
  return recordingTransport("ctl1", (argv) => {
    if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
    if (argv.includes(":8774/v2.1/os-"))
      return { stdout: `${JSON.stringify(body)}\n--hastack-status--${status}` };
    return undefined;
  });
}

describe("nova's status probes", () => {
  it("has an API probe per listener on each controller, a token through the VIP, services and hypervisors", () => {
    const ids = nova.health?.(topology, registry).map((p) => p.id);
    expect(ids).toEqual([
      "nova_api",
      "nova_metadata",
      "nova_novncproxy",
      "vip-token",
      "services",
      "hypervisors",
    ]);
  });

  it("services: ok when every conductor, scheduler and compute is up", async () => {
    const r = await probe("services").run(context(answering({ services: ALL_UP })));
    expect(r).toMatchObject({
      state: "ok",
      summary: "nova-conductor 3/3, nova-scheduler 3/3, nova-compute 2/2 up",
    });
  });

  it("services: degraded for one compute down, down when no scheduler is up", async () => {
    const oneDown = ALL_UP.map((s) => (s.host === "cmp2" ? { ...s, state: "down" } : s));
    const r = await probe("services").run(context(answering({ services: oneDown })));
    expect(r.state).toBe("degraded");
    expect(r.summary).toBe(
      "nova-conductor 3/3, nova-scheduler 3/3, nova-compute 1/2 up; not up: nova-compute on cmp2 (down)",
    );
    const noScheduler = ALL_UP.filter((s) => s.binary !== "nova-scheduler");
    const down = await probe("services").run(context(answering({ services: noScheduler })));
    expect(down.state).toBe("down");
    expect(down.summary).toContain("nova-scheduler on ctl1 (not listed)");
  });

  it("hypervisors: ok when listed and up, matching a fully qualified name; degraded when one is missing", async () => {
    const both = {
      hypervisors: [
        { id: 1, hypervisor_hostname: "cmp1.cluster.local", state: "up", status: "enabled" },
        { id: 2, hypervisor_hostname: "cmp2", state: "up", status: "enabled" },
      ],
    };
    expect(await probe("hypervisors").run(context(answering(both)))).toMatchObject({
      state: "ok",
      summary: "2/2 hypervisors up",
    });
    const one = { hypervisors: both.hypervisors.slice(0, 1) };
    expect(await probe("hypervisors").run(context(answering(one)))).toMatchObject({
      state: "degraded",
      summary: "1/2 hypervisors up; not up: cmp2 (not listed)",
    });
  });

  it("asks the next controller when one cannot, and is down naming each failure when none can", async () => {
    const hosts: string[] = [];
    let calls = 0;
    const flaky = recordingTransport("any", (argv) => {
      if (argv.endsWith("/v3/auth/tokens"))
        return calls++ === 0 ? { code: 7, stderr: "curl: (7) Failed to connect" } : { stdout: login };
      if (argv.includes("/os-services"))
        return { stdout: `${JSON.stringify({ services: ALL_UP })}\n--hastack-status--200` };
      return undefined;
    });
    expect((await probe("services").run(context(flaky, hosts))).state).toBe("ok");
    expect(hosts).toEqual(["ctl1", "ctl2", "ctl2"]);
    const refusing = answering({ error: "x" }, 403);
    const r = await probe("services").run(context(refusing));
    expect(r.state).toBe("down");
    expect(r.summary).toMatch(
      /^Cannot GET http:\/\/10\.20\.0\.10:8774\/v2\.1\/os-services on ctl1: HTTP 403; .* on ctl2: HTTP 403; .* on ctl3/,
    );
  });

  it("reads only what nova documents: an answer without services is an error, not ok", async () => {
    const r = await probe("services").run(context(answering({ servers: [] })));
    expect(r.state).toBe("down");
    expect(r.summary).toContain("Cannot read GET /os-services's answer on ctl1: services:");
  });
});
