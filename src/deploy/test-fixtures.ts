/**
 * @module
 * Test support: a small topology of named hosts, each deployed into its own temp dir through a
 * LocalTransport, and rendering of test-made ServiceDefs the way the render engine does it.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RenderedFile } from "../services/render.ts";
import { renderTopology } from "../services/render.ts";
import type { ServiceDef } from "../services/types.ts";
import type { ResolvedHost, Topology } from "../topology/types.ts";
import { LocalTransport } from "../transport/local-transport.ts";
import type { Transport } from "../transport/types.ts";

export function testTopology(dir: string, names: string[], ssh?: Partial<ResolvedHost["ssh"]>): Topology {
  const hosts: ResolvedHost[] = names.map((name, i) => ({
    name,
    fqdn: `${name}.test`,
    roles: ["controller"],
    addresses: { management: "127.0.0.1" },
    ip: "127.0.0.1",
    interfaces: {},
    ssh: { user: "root", port: 22, ...ssh },
    controllerIndex: i + 1,
  }));
  // Only what the deploy engine reads; the rest of a real topology does not matter here.
  return {
    cluster: "test",
    source: join(dir, "inventory.yaml"),
    secretsFile: join(dir, "inventory.secrets.yaml"),
    hosts,
    bootstrap: names[0] ?? "",
    overrides: [],
  } as unknown as Topology;
}

export function renderFor(services: readonly ServiceDef[], topology: Topology): Map<string, RenderedFile[]> {
  return renderTopology(topology, services).files;
}

export interface LocalHosts {
  dir: string;
  roots: Map<string, string>;
  transports: Map<string, Transport>;
}

export function localHosts(names: string[]): LocalHosts {
  const dir = mkdtempSync(join(tmpdir(), "hastack-deploy-"));
  const roots = new Map<string, string>();
  const transports = new Map<string, Transport>();
  for (const name of names) {
    const root = join(dir, "hosts", name);
    mkdirSync(root, { recursive: true });
    roots.set(name, root);
    transports.set(name, new LocalTransport({ name, root }));
  }
  return { dir, roots, transports };
}
