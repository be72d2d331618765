/**
 * @module
 * Loads /etc/hastack/cib.xml into the live CIB without churn: each configuration scope hastack
 * owns is compared with the live one and replaced only when it differs. `nodes` and `status`
 * belong to Pacemaker and are never written. Cluster properties are compared by name only,
 * because Pacemaker adds its own (dc-version, cluster-infrastructure...) to the same set.
 */
import { HastackError } from "../../util/errors.ts";
import type { StepContext } from "../types.ts";

/** Where the rendered CIB lands (pacemaker files step); the cib step loads it from there. */
export const CIB_PATH = "/etc/hastack/cib.xml";

export type Scope = "rsc_defaults" | "resources" | "constraints" | "alerts";
const SCOPES: readonly Scope[] = ["rsc_defaults", "resources", "constraints", "alerts"];

/** The element of a scope in a CIB text, e.g. `<resources>...</resources>` (or `<resources/>`). */
export function scopeXml(cib: string, scope: string): string {
  const open = new RegExp(`<${scope}(\\s[^>]*)?/>|<${scope}(\\s[^>]*)?>[\\s\\S]*?</${scope}>`);
  return open.exec(cib)?.[0] ?? `<${scope}/>`;
}

/**
 * A canonical form for comparing XML: whitespace between tags dropped, attributes sorted,
 * `<a/>` and `<a></a>` the same. Enough for CIB sections, which hold no text nodes.
 */
export function canonicalXml(xml: string): string {
  const out: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([\w:-]+)((?:\s+[\w:-]+\s*=\s*"[^"]*")*)\s*(\/?)>/g)) {
    const [, close, tag, attrs = "", self] = m;
    if (close) {
      out.push(`</${tag}>`);
      continue;
    }
    const pairs = [...attrs.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)].map((a) => `${a[1]}="${a[2]}"`).sort();
    out.push(`<${[tag, ...pairs].join(" ")}>`);
    if (self) out.push(`</${tag}>`);
  }
  return out.join("");
}

/**
 * Drops attribute sets that hold nothing: `crm_resource --restart` (hastack's engine-running step,
 * or an operator's) leaves `<meta_attributes id="x-meta_attributes"/>` behind, which means what
 * no set means; compared as a difference, the next deploy replaced the resources for it.
 */
export function withoutEmptySets(xml: string): string {
  return xml.replace(/<(meta_attributes|instance_attributes|utilization)\b[^>]*?(?:\/>|>\s*<\/\1>)/g, "");
}

/** name -> value of the nvpairs of cib-bootstrap-options. */
export function properties(xml: string): Map<string, string> {
  const set =
    /<cluster_property_set[^>]*id="cib-bootstrap-options"[^>]*>([\s\S]*?)<\/cluster_property_set>/.exec(xml);
  const out = new Map<string, string>();
  for (const m of (set?.[1] ?? "").matchAll(/<nvpair\b[^>]*>/g)) {
    const name = /\bname="([^"]*)"/.exec(m[0])?.[1];
    const value = /\bvalue="([^"]*)"/.exec(m[0])?.[1];
    if (name !== undefined && value !== undefined) out.set(name, value);
  }
  return out;
}

export interface CibDiff {
  properties: [name: string, value: string][];
  scopes: Scope[];
  /** Scopes the live CIB does not have at all (a new cluster has no rsc_defaults). */
  absent: Scope[];
  wanted: string;
}

export async function cibDiff(ctx: StepContext): Promise<CibDiff> {
  const file = await ctx.transport.readFile(CIB_PATH);
  if (!file)
    throw new HastackError(
      "E_CIB_MISSING",
      `Cannot load the CIB on ${ctx.host.name}: ${CIB_PATH} is missing`,
    );
  const wanted = file.toString("utf8");
  const live = await ctx.run(["cibadmin", "--query", "--scope", "configuration"], { timeoutMs: 30_000 });
  const liveProps = properties(live.stdout);
  const diff: CibDiff = { properties: [], scopes: [], absent: [], wanted };
  for (const [name, value] of properties(scopeXml(wanted, "crm_config")))
    if (liveProps.get(name) !== value) diff.properties.push([name, value]);
  for (const scope of SCOPES) {
    const same = (xml: string) => canonicalXml(withoutEmptySets(scopeXml(xml, scope)));
    if (same(wanted) !== same(live.stdout)) diff.scopes.push(scope);
    if (!new RegExp(`<${scope}[\\s/>]`).test(live.stdout)) diff.absent.push(scope);
  }
  return diff;
}

/**
 * Resources and constraints change together in one replace of the configuration (with the live
 * crm_config and nodes copied as they are): constraints name resources by IDREF, so new
 * constraints cannot go in before their resources, nor can resources leave before the
 * constraints naming them, and a resource without its constraints could start once on the
 * wrong node (a fence device on its own host).
 */
export async function loadCib(ctx: StepContext, diff: CibDiff): Promise<void> {
  await ctx.run(["crm_verify", "--xml-file", CIB_PATH], { timeoutMs: 60_000 });
  for (const [name, value] of diff.properties)
    await ctx.run(["crm_attribute", "--type", "crm_config", "--name", name, "--update", value]);
  const both = diff.scopes.includes("resources") && diff.scopes.includes("constraints");
  if (both || diff.absent.some((s) => diff.scopes.includes(s))) {
    const live = (await ctx.run(["cibadmin", "--query", "--scope", "configuration"], { timeoutMs: 30_000 }))
      .stdout;
    let config = scopeXml(live, "configuration");
    for (const scope of diff.scopes) {
      const element = scopeXml(diff.wanted, scope);
      config = diff.absent.includes(scope)
        ? config.replace(/<\/configuration>\s*$/, `${element}</configuration>`)
        : config.replace(scopeXml(config, scope), () => element);
    }
    // On stdin: the resources hold the BMC passwords.
    await ctx.run(["cibadmin", "--replace", "--scope", "configuration", "--xml-pipe"], {
      stdin: config,
      timeoutMs: 60_000,
    });
  } else {
    for (const scope of diff.scopes) {
      await ctx.run(["cibadmin", "--replace", "--scope", scope, "--xml-pipe"], {
        stdin: scopeXml(diff.wanted, scope),
        timeoutMs: 60_000,
      });
    }
  }
  const what = [...diff.properties.map(([n]) => n), ...diff.scopes];
  ctx.log.info(`loaded ${what.join(", ")}`);
}
