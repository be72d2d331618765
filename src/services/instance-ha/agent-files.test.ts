import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAgentConfig, parseAgentKey } from "../../instance-ha/agent/config.ts";
import { createVerifier, encodeHeartbeat } from "../../instance-ha/heartbeat.ts";
import { heartbeat } from "../../instance-ha/test-world.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { runtimeImports } from "../../testing/module-graph.ts";
import { hostByName } from "../../topology/types.ts";
import { services } from "../registry.ts";
import { renderContext, renderTopology } from "../render.ts";
import {
  AGENT_PACKAGES,
  AGENT_SOURCES,
  agentConfigText,
  agentKeyText,
  renderAgentUnit,
} from "./agent-files.ts";
import { instanceHa } from "./index.ts";

describe("instance-ha agent files", () => {
  it("a compute's config: its own address per network as the source, every controller as a target, the monitors probed", () => {
    const topology = exampleTopology("lab");
    const config = parseAgentConfig(agentConfigText(topology, hostByName(topology, "cmp1")));

    expect(config).toMatchObject({
      site: "lab",
      host: "cmp1",
      interval_ms: topology.instanceHa.heartbeat_interval_s * 1000,
      networks: {
        management: {
          source: "10.20.0.21",
          targets: [
            { address: "10.20.0.11", port: 4950 },
            { address: "10.20.0.12", port: 4950 },
            { address: "10.20.0.13", port: 4950 },
          ],
        },
        storage: {
          source: "10.21.0.21",
          targets: [
            { address: "10.21.0.11", port: 4951 },
            { address: "10.21.0.12", port: 4951 },
            { address: "10.21.0.13", port: 4951 },
          ],
        },
      },
      probes: {
        storage: [
          { address: "10.21.0.31", port: 3300 },
          { address: "10.21.0.32", port: 3300 },
          { address: "10.21.0.33", port: 3300 },
        ],
      },
    });
    // Nothing secret in the config: the key is a file of its own.
    expect(JSON.stringify(config)).not.toMatch(/hastack-secret|[0-9a-f]{64}/);
  });

  it("without a storage network, both copies go over management, to the two ports", () => {
    const topology = exampleTopology("lab", (inv) => {
      delete inv.networks?.storage;
      for (const host of Object.values(inv.hosts ?? {})) {
        delete host.addresses?.storage;
        delete host.interfaces?.storage;
      }
    });
    const config = parseAgentConfig(agentConfigText(topology, hostByName(topology, "cmp2")));
    expect(config.networks.storage.source).toBe("10.20.0.22");
    expect(config.networks.storage.targets[0]).toEqual({ address: "10.20.0.11", port: 4951 });
    expect(config.probes.storage[0]).toEqual({ address: "10.20.0.31", port: 3300 });
  });

  it("the unit runs the pinned node on the agent, restarts always, and never stops retrying", () => {
    const unit = renderAgentUnit();
    expect(unit).toContain(
      "ExecStart=/opt/hastack/node/current/bin/node /opt/hastack/agent/instance-ha/agent/main.ts --config /etc/hastack/agent.json",
    );
    expect(unit).toContain("\nRestart=always\n");
    expect(unit).toContain("\nStartLimitIntervalSec=0\n");
  });

  it("computes get the agent's files, controllers the engine's, and the render pipeline writes them", () => {
    const topology = exampleTopology("lab");
    const ctx = renderContext(topology, services);
    expect(instanceHa.files?.(ctx, hostByName(topology, "cmp1")).map((f) => f.path)).toEqual([
      "/etc/systemd/system/hastack-agent.service",
      "/etc/hastack/agent.json",
    ]);
    expect(instanceHa.files?.(ctx, hostByName(topology, "ctl1")).map((f) => f.path)).toEqual([
      "/etc/systemd/system/hastack-engine.service",
      "/etc/hastack/engine.json",
      "/etc/hastack/engine-secrets.json",
    ]);
    const rendered = renderTopology(topology, services);
    expect(rendered.files.get("cmp1")?.map((f) => f.path)).toContain("/etc/hastack/agent.json");
    expect(rendered.files.get("ctl1")?.map((f) => f.path)).not.toContain("/etc/hastack/agent.json");
    expect(rendered.files.get("sto1")?.map((f) => f.path) ?? []).not.toContain("/etc/hastack/engine.json");
  });

  it("ships exactly what main.ts imports at run time: AGENT_SOURCES and AGENT_PACKAGES", () => {
    const src = fileURLToPath(new URL("../../", import.meta.url));
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = [`${src}instance-ha/agent/main.ts`];
    for (let file = queue.pop(); file; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(...runtimeImports(file));
      // Bare specifiers, type-only ones left out (Node erases them): the packages to ship.
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:^|\n)import\s+(?!type\s)[^;]*?\sfrom\s+"([^".][^"]*)"/g)) {
        const name = m[1] as string;
        if (!name.startsWith("node:")) packages.add(name);
      }
    }
    expect([...seen].map((f) => relative(src, f)).sort()).toEqual([...AGENT_SOURCES].sort());
    expect([...packages].sort()).toEqual([...AGENT_PACKAGES].sort());
  });

  it("the key written for a compute is the one the engine checks its heartbeats with, and differs per host", () => {
    const topology = exampleTopology("lab");
    const secret = "ab".repeat(32);
    const text = agentKeyText(secret, topology, hostByName(topology, "cmp1"));
    expect(text).not.toContain(secret);
    const key = parseAgentKey(text);
    const verifier = createVerifier({
      site: topology.cluster,
      siteSecret: secret,
      hosts: new Map([
        ["cmp1", {}],
        ["cmp2", {}],
      ]),
    });
    const arrival = { network: "management" as const, source: "10.20.0.21" };
    expect(verifier.verify(encodeHeartbeat(heartbeat({ site: topology.cluster }), key), arrival).ok).toBe(
      true,
    );
    const asCmp2 = encodeHeartbeat(heartbeat({ site: topology.cluster, host: "cmp2" }), key);
    expect(verifier.verify(asCmp2, arrival)).toEqual({ ok: false, reason: "forged" });
  });
});
