import type {
  PacemakerContribution,
  PcmkAlert,
  PcmkConstraint,
  PcmkOp,
  PcmkPrimitive,
} from "../services/types.ts";
import { HastackError } from "../util/errors.ts";

/** The newest CIB schema of Pacemaker 3.0 (Debian 13), the one `cibadmin --upgrade` moves to. */
export const CIB_SCHEMA = "pacemaker-4.0";

/** Several services' contributions as one: properties and defaults merged, lists concatenated. */
export function mergeContributions(
  parts: readonly PacemakerContribution[],
): Required<Omit<PacemakerContribution, "after">> {
  const merged: Required<Omit<PacemakerContribution, "after">> = {
    properties: {},
    rscDefaults: {},
    primitives: [],
    clones: [],
    constraints: [],
    alerts: [],
  };
  for (const part of parts) {
    Object.assign(merged.properties, part.properties);
    Object.assign(merged.rscDefaults, part.rscDefaults);
    merged.primitives.push(...(part.primitives ?? []));
    merged.clones.push(...(part.clones ?? []));
    merged.constraints.push(...(part.constraints ?? []));
    merged.alerts.push(...(part.alerts ?? []));
  }
  return merged;
}

/**
 * A complete CIB (configuration plus an empty status) that `crm_verify --xml-file` accepts.
 * `<nodes>` stays empty: Pacemaker fills it from corosync membership, and nodes listed without
 * a status read as "unclean" to crm_verify. Location constraints may name nodes regardless.
 */
export function cibDocument(contribution: PacemakerContribution): string {
  const c = mergeContributions([contribution]);
  assertUniqueIds(c);
  const lines = [
    `<cib validate-with="${CIB_SCHEMA}" admin_epoch="0" epoch="1" num_updates="0">`,
    "  <configuration>",
    "    <crm_config>",
    ...nvset("cluster_property_set", "cib-bootstrap-options", c.properties, 6),
    "    </crm_config>",
    "    <rsc_defaults>",
    ...nvset("meta_attributes", "rsc-options", c.rscDefaults, 6),
    "    </rsc_defaults>",
    "    <nodes/>",
    "    <resources>",
    ...c.primitives.flatMap((p) => primitive(p, 6)),
    ...c.clones.flatMap((clone) => [
      `      <clone id="${esc(clone.id)}">`,
      ...nvset("meta_attributes", `${clone.id}-meta_attributes`, clone.meta ?? {}, 8),
      ...primitive(clone.primitive, 8),
      "      </clone>",
    ]),
    "    </resources>",
    "    <constraints>",
    ...c.constraints.map((k) => `      ${constraint(k)}`),
    "    </constraints>",
    ...(c.alerts.length > 0
      ? ["    <alerts>", ...c.alerts.flatMap((a) => alert(a, 6)), "    </alerts>"]
      : []),
    "  </configuration>",
    "  <status/>",
    "</cib>",
  ];
  return `${lines.join("\n")}\n`;
}

function primitive(p: PcmkPrimitive, indent: number): string[] {
  const pad = " ".repeat(indent);
  const provider = p.provider ? ` provider="${esc(p.provider)}"` : "";
  return [
    `${pad}<primitive id="${esc(p.id)}" class="${p.class}"${provider} type="${esc(p.type)}">`,
    ...nvset("instance_attributes", `${p.id}-instance_attributes`, p.params, indent + 2),
    ...nvset("meta_attributes", `${p.id}-meta_attributes`, p.meta ?? {}, indent + 2),
    ...(p.ops.length > 0
      ? [
          `${pad}  <operations>`,
          ...p.ops.map((op) => `${pad}    ${operation(p.id, op)}`),
          `${pad}  </operations>`,
        ]
      : []),
    `${pad}</primitive>`,
  ];
}

function alert(a: PcmkAlert, indent: number): string[] {
  const pad = " ".repeat(indent);
  return [
    `${pad}<alert id="${esc(a.id)}" path="${esc(a.path)}">`,
    ...nvset("meta_attributes", `${a.id}-meta_attributes`, { timeout: `${a.timeout_s ?? 30}s` }, indent + 2),
    `${pad}  <select>`,
    ...a.select.map((kind) => `${pad}    <select_${kind}/>`),
    `${pad}  </select>`,
    `${pad}</alert>`,
  ];
}

function operation(rsc: string, op: PcmkOp): string {
  const id = `${rsc}-${op.name}-interval-${op.interval_s}s`;
  return `<op id="${esc(id)}" name="${op.name}" interval="${op.interval_s}s" timeout="${op.timeout_s}s"/>`;
}

function constraint(k: PcmkConstraint): string {
  switch (k.kind) {
    case "location":
      return `<rsc_location id="${esc(k.id)}" rsc="${esc(k.rsc)}" node="${esc(k.node)}" score="${esc(k.score)}"/>`;
    case "colocation":
      return `<rsc_colocation id="${esc(k.id)}" rsc="${esc(k.rsc)}" with-rsc="${esc(k.withRsc)}" score="${esc(k.score)}"/>`;
    case "order":
      return `<rsc_order id="${esc(k.id)}" first="${esc(k.first)}" first-action="start" then="${esc(k.then)}" then-action="start" kind="${k.orderKind}"/>`;
  }
}

/** An empty set is left out: the schema wants at least one nvpair in a set. */
function nvset(element: string, id: string, values: Record<string, string>, indent: number): string[] {
  const entries = Object.entries(values);
  if (entries.length === 0) return [];
  const pad = " ".repeat(indent);
  return [
    `${pad}<${element} id="${esc(id)}">`,
    ...entries.map(
      ([name, value]) =>
        `${pad}  <nvpair id="${esc(`${id}-${name}`)}" name="${esc(name)}" value="${esc(value)}"/>`,
    ),
    `${pad}</${element}>`,
  ];
}

/** XML attribute escaping: a password or a description may hold any of these. */
export function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function assertUniqueIds(c: Required<Omit<PacemakerContribution, "after">>): void {
  const ids = [
    ...c.primitives.map((p) => p.id),
    ...c.clones.flatMap((clone) => [clone.id, clone.primitive.id]),
    ...c.constraints.map((k) => k.id),
    ...c.alerts.map((a) => a.id),
  ];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id))
      throw new HastackError("E_CIB_DUPLICATE_ID", `Cannot build the CIB: id ${id} is used twice`);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(id)) {
      throw new HastackError(
        "E_CIB_BAD_ID",
        `Cannot build the CIB: ${JSON.stringify(id)} is not a valid XML id`,
      );
    }
    seen.add(id);
  }
}
