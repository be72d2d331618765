import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { inventorySchemaFor } from "../inventory/assemble.ts";
import type { Inventory, InventoryInput } from "../inventory/schema.ts";
import { materialize } from "../inventory/secrets.ts";
import { generateSecret, readSecrets, writeSecrets } from "../inventory/secrets-file.ts";
import { ensureSiteTls } from "../inventory/site-tls.ts";
import { services } from "../services/registry.ts";
import { type RenderedFile, renderTopology } from "../services/render.ts";
import { secretSpecs } from "../services/secret-specs.ts";
import type { ServiceDef } from "../services/types.ts";
import { resolveTopology } from "../topology/resolve.ts";
import type { Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import type { PlacedFile } from "./real-tools.ts";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

/** The inventory of examples/NAME.yaml, optionally edited, as a resolved topology. */
export function exampleTopology(
  name: "lab" | "runbook-9-node",
  edit?: (inv: InventoryInput) => void,
  registry: readonly ServiceDef[] = services,
): Topology {
  const path = `${examples}${name}.yaml`;
  const input = YAML.parse(readFileSync(path, "utf8")) as InventoryInput;
  // Every OpenStack service enabled, as before the lab's own list left Nova out until Neutron is
  // live: a service's tests render and plan it on the lab's hosts whether `npm run lab` deploys it.
  delete (input.services as { openstack?: unknown } | undefined)?.openstack;
  edit?.(input);
  return resolveTopology(parseInventory(input, registry), { source: path, services: registry });
}

/** An inventory checked by the schema the services make up (the real registry by default). */
export function parseInventory(input: unknown, registry: readonly ServiceDef[] = services): Inventory {
  return inventorySchemaFor(registry).parse(input) as Inventory;
}

/**
 * The registry as it will be once the OpenStack services are implemented: lets a test check what
 * they contribute (frontends, files) before their deploy exists. A stand-in, said where used.
 */
export function withOpenStackImplemented(registry: readonly ServiceDef[] = services): ServiceDef[] {
  return registry.map((s) => (s.group === "openstack" ? { ...s, state: "implemented" } : s));
}

/**
 * The registry with these services declared: every OpenStack service is implemented today, and
 * what hastack does with a declared one (nothing rendered, no listener, "not implemented" in
 * plan and status) must stay true for the next one declared ahead of its issue.
 */
export function withDeclared(
  ids: readonly string[],
  registry: readonly ServiceDef[] = services,
): ServiceDef[] {
  return registry.map((s) => (ids.includes(s.id) ? { ...s, state: "declared" } : s));
}

/** A value for every generated secret and every host's BMC password, as `secrets init` would. */
export function generatedSecrets(topology: Topology): Record<string, string> {
  const values: Record<string, string> = {};
  for (const spec of secretSpecs(services)) {
    values[spec.name] = generateSecret(spec.kind, spec.length);
  }
  for (const host of topology.hosts)
    if (host.bmc) values[host.bmc.password_secret] = generateSecret("password");
  return values;
}

/** The site CA and public certificate of `topology`, issued by real openssl as `secrets init` issues them. */
export async function siteTlsSecrets(topology: Topology): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "hastack-tls-fixture-"));
  try {
    const path = join(dir, "site.secrets.yaml");
    await writeSecrets(path, {});
    await ensureSiteTls({ ...topology, secretsFile: path });
    return await readSecrets(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function renderedFile(
  topology: Topology,
  host: string,
  path: string,
  registry: readonly ServiceDef[] = services,
): RenderedFile {
  const file = renderTopology(topology, registry, [host])
    .files.get(host)
    ?.find((f) => f.path === path);
  if (!file) throw new HastackError("E_NO_RENDERED_FILE", `Cannot find ${path} among the files of ${host}`);
  return file;
}

/** A rendered file with real secret values, ready for a real daemon (base64 files as bytes). */
export function placed(file: RenderedFile, secrets: Record<string, string>, path = file.path): PlacedFile {
  const text = materialize(file.text, secrets);
  return {
    path,
    content: file.encoding === "base64" ? Buffer.from(text, "base64") : text,
    mode: file.mode,
    owner: `${file.owner}:${file.group}`,
  };
}

/** Every file of a host, materialized. */
export function placedHostFiles(
  topology: Topology,
  host: string,
  secrets: Record<string, string>,
): PlacedFile[] {
  return (renderTopology(topology, services, [host]).files.get(host) ?? []).map((f) => placed(f, secrets));
}
