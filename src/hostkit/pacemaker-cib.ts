/**
 * @module
 * The live CIB's configuration as status compares it with what hastack renders, and
 * `crm_verify -L -V`'s verdict, parsed through zod. Only scopes without secrets are read from
 * the cluster: crm_config, constraints, and the resources by name through
 * `cibadmin --xpath ... --node-path` (the resources scope itself holds the BMC passwords).
 */
import { z } from "zod";
import type { Transport } from "../transport/types.ts";
import { parseXml, type XmlElement } from "../util/xml.ts";
import { parseToolOutput } from "./command.ts";

export const CIB_PROPERTIES_ARGV = ["cibadmin", "--query", "--scope", "crm_config"];
export const CIB_CONSTRAINTS_ARGV = ["cibadmin", "--query", "--scope", "constraints"];
/** Exit 105 (no such object) when there are no resources at all. */
export const CIB_RESOURCES_ARGV = [
  "cibadmin",
  "--query",
  "--xpath",
  "/cib/configuration/resources/*",
  "--node-path",
];
export const CRM_VERIFY_ARGV = ["crm_verify", "-L", "-V"];

export interface CibConstraint {
  id: string;
  /** rsc_location, rsc_colocation, rsc_order, rsc_ticket */
  kind: string;
  /** Attributes sorted, for comparing one constraint with another. */
  canonical: string;
}

export interface CibView {
  /** name -> value of cib-bootstrap-options. */
  properties: Map<string, string>;
  constraints: CibConstraint[];
  /** Top-level resources: primitive, clone, group or bundle ids. */
  resources: { kind: string; id: string }[];
}

const Id = z.string().regex(/^[A-Za-z_][\w.:-]*$/, "not an XML id");
const Nvpairs = z.array(z.object({ name: z.string().min(1), value: z.string() }));
const Constraints = z.array(
  z.object({ kind: z.enum(["rsc_location", "rsc_colocation", "rsc_order", "rsc_ticket"]), id: Id }).loose(),
);
const Resources = z.array(z.object({ kind: z.enum(["primitive", "clone", "group", "bundle"]), id: Id }));

function canonical(element: XmlElement): string {
  const attrs = Object.entries(element.attrs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return `<${[element.name, ...attrs].join(" ")}>${element.children.map(canonical).join("")}</${element.name}>`;
}

function bootstrapProperties(crmConfig: XmlElement): { name?: string; value?: string }[] {
  const set = crmConfig.children.find(
    (c) => c.name === "cluster_property_set" && c.attrs.id === "cib-bootstrap-options",
  );
  return (set?.children ?? []).filter((c) => c.name === "nvpair").map((n) => n.attrs);
}

/** `cibadmin --query --scope crm_config`. */
export function parseCibProperties(host: Pick<Transport, "name">, xml: string): Map<string, string> {
  const root = parseXml(xml);
  const pairs = parseToolOutput(host, "cibadmin --scope crm_config", Nvpairs, bootstrapProperties(root));
  return new Map(pairs.map((p) => [p.name, p.value]));
}

/** `cibadmin --query --scope constraints`. */
export function parseCibConstraints(host: Pick<Transport, "name">, xml: string): CibConstraint[] {
  const root = parseXml(xml);
  const data = root.children.map((c) => ({ ...c.attrs, kind: c.name }));
  parseToolOutput(host, "cibadmin --scope constraints", Constraints, data);
  return root.children.map((c) => ({ id: c.attrs.id as string, kind: c.name, canonical: canonical(c) }));
}

/** `cibadmin --query --xpath /cib/configuration/resources/* --node-path`: one path per line. */
export function parseResourcePaths(host: Pick<Transport, "name">, text: string): CibView["resources"] {
  const rows = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^\/cib\/configuration\/resources\/(\w+)\[@id='([^']*)'\]$/.exec(l);
      return m ? { kind: m[1], id: m[2] } : { line: l };
    });
  return parseToolOutput(host, "cibadmin --node-path", Resources, rows);
}

/** The same view of a whole CIB document hastack renders (no tool: our own text). */
export function renderedCibView(cibXml: string): CibView {
  const root = parseXml(cibXml);
  const configuration = root.children.find((c) => c.name === "configuration");
  const scope = (name: string) => configuration?.children.find((c) => c.name === name);
  const crmConfig = scope("crm_config");
  const properties = new Map<string, string>();
  if (crmConfig)
    for (const p of bootstrapProperties(crmConfig))
      if (p.name !== undefined) properties.set(p.name, p.value ?? "");
  return {
    properties,
    constraints: (scope("constraints")?.children ?? []).map((c) => ({
      id: c.attrs.id ?? "",
      kind: c.name,
      canonical: canonical(c),
    })),
    resources: (scope("resources")?.children ?? []).map((c) => ({ kind: c.name, id: c.attrs.id ?? "" })),
  };
}

export interface VerifyResult {
  valid: boolean;
  errors: string[];
  warnings: string[];
  /** Schema messages crm_verify prints before its "error:" lines. */
  notes: string[];
}

const VerifyLines = z.array(
  z.object({ level: z.enum(["error", "warning", "note"]), text: z.string().min(1) }),
);

/**
 * `crm_verify -L -V` (stdout and stderr together): silent and exit 0 when the live CIB is
 * valid; "error: ..." and "warning: ..." lines otherwise, exit 78 when it is not.
 */
export function parseCrmVerify(host: Pick<Transport, "name">, output: string, code: number): VerifyResult {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^Configuration invalid/.test(l) && !/^Errors found during check/.test(l))
    .map((l) => {
      const m = /^(error|warning):\s*(.*)$/.exec(l);
      return m ? { level: m[1], text: m[2] } : { level: "note", text: l };
    });
  const parsed = parseToolOutput(host, "crm_verify -L -V", VerifyLines, lines);
  const of = (level: string) => [...new Set(parsed.filter((l) => l.level === level).map((l) => l.text))];
  return { valid: code === 0, errors: of("error"), warnings: of("warning"), notes: of("note") };
}
