import { isConfigDoc, sectionNames, setEntry } from "../formats/doc.ts";
import { serializeDoc } from "../formats/serialize.ts";
import { secretPlaceholder } from "../inventory/secrets.ts";
import type { ResolvedHost, Topology } from "../topology/types.ts";
import type { Problem } from "../util/errors.ts";
import { isDeployed } from "./deployable.ts";
import type { FileSpec, RenderContext, ServiceDef } from "./types.ts";

/** A file as it will be written: text still holds secret placeholders. */
export interface RenderedFile {
  host: string;
  service: string;
  path: string;
  owner: string;
  group: string;
  mode: number;
  text: string;
  encoding: "utf8" | "base64";
  onChange: NonNullable<FileSpec["onChange"]>;
}

export interface RenderResult {
  /** Files per host name, in service order. */
  files: Map<string, RenderedFile[]>;
  /** Override problems (unknown file, section, or a file that takes no overrides). */
  problems: Problem[];
}

export function renderContext(topology: Topology, services: readonly ServiceDef[]): RenderContext {
  return { topology, services, secret: secretPlaceholder };
}

/**
 * Renders every host's files (only those of `only` when given) and applies the inventory's
 * overrides. `registry` is the site's services: the real registry, or a test's own. Declared
 * services render nothing: their files would name daemons hastack does not deploy yet.
 */
export function renderTopology(
  topology: Topology,
  registry: readonly ServiceDef[],
  only?: readonly string[],
): RenderResult {
  const ctx = renderContext(topology, registry);
  const placed = placedServices(topology, registry);
  const specs = new Map<string, { service: string; spec: FileSpec }[]>();
  for (const host of topology.hosts) {
    if (only && !only.includes(host.name)) continue;
    specs.set(host.name, renderHostSpecs(ctx, host, placed));
  }
  const problems = applyOverrides(topology, specs);
  const files = new Map<string, RenderedFile[]>();
  for (const [host, list] of specs) {
    files.set(
      host,
      list.map(({ service, spec }) => ({
        host,
        service,
        path: spec.path,
        owner: spec.owner,
        group: spec.group,
        mode: spec.mode,
        text: typeof spec.content === "string" ? spec.content : serializeDoc(spec.content),
        encoding: spec.encoding ?? "utf8",
        onChange: spec.onChange ?? {},
      })),
    );
  }
  return { files, problems };
}

/**
 * The services that render files, each with the hosts it runs on, in registry order. A service's
 * `hosts` walks every host of the site: asked once here, not once per host (quadratic: minutes
 * for 5,000 computes).
 */
function placedServices(
  topology: Topology,
  registry: readonly ServiceDef[],
): { service: ServiceDef; hosts: ReadonlySet<string> }[] {
  return registry
    .filter((service) => service.files && isDeployed(service, topology))
    .map((service) => ({ service, hosts: new Set(service.hosts(topology)) }));
}

function renderHostSpecs(
  ctx: RenderContext,
  host: ResolvedHost,
  placed: readonly { service: ServiceDef; hosts: ReadonlySet<string> }[],
): { service: string; spec: FileSpec }[] {
  const out: { service: string; spec: FileSpec }[] = [];
  for (const { service, hosts } of placed) {
    if (!service.files || !hosts.has(host.name)) continue;
    for (const spec of service.files(ctx, host)) out.push({ service: service.id, spec });
  }
  return out;
}

function applyOverrides(
  topology: Topology,
  specs: Map<string, { service: string; spec: FileSpec }[]>,
): Problem[] {
  const problems: Problem[] = [];
  for (const [index, override] of topology.overrides.entries()) {
    const path = ["overrides", index];
    const targets = [...specs]
      .filter(([host]) => !override.hosts || override.hosts.includes(host))
      .flatMap(([, list]) => list.filter(({ spec }) => spec.path === override.file));
    if (targets.length === 0) {
      const known = [...new Set([...specs.values()].flat().map(({ spec }) => spec.path))].sort();
      problems.push({
        severity: "error",
        code: "E_OVERRIDE_FILE",
        message: `overrides[${index}]: no host${override.hosts ? ` of ${override.hosts.join(", ")}` : ""} has a file ${override.file}`,
        hint: `overrides can target: ${known.filter((p) => isOverridable(specs, p)).join(", ")}`,
        path: [...path, "file"],
      });
      continue;
    }
    for (const { spec } of targets) {
      if (!isConfigDoc(spec.content)) {
        problems.push({
          severity: "error",
          code: "E_OVERRIDE_UNSTRUCTURED",
          message: `overrides[${index}]: ${override.file} is not a sectioned config file and takes no overrides`,
          hint: "change the matching setting under services: instead",
          path: [...path, "file"],
        });
        break;
      }
      const sections = sectionNames(spec.content);
      if (!sections.includes(override.section)) {
        problems.push({
          severity: "error",
          code: "E_OVERRIDE_SECTION",
          message: `overrides[${index}]: ${override.file} has no section '${override.section}'`,
          hint: `its sections are: ${sections.map((s) => (s === "" ? "'' (the whole file)" : `'${s}'`)).join(", ")}`,
          path: [...path, "section"],
        });
        break;
      }
      for (const [key, value] of Object.entries(override.set))
        setEntry(spec.content, override.section, key, String(value));
    }
  }
  return problems;
}

function isOverridable(specs: Map<string, { spec: FileSpec }[]>, path: string): boolean {
  return [...specs.values()].flat().some(({ spec }) => spec.path === path && isConfigDoc(spec.content));
}
