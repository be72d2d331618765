import { z } from "zod";
import type { InventorySchema } from "./assemble.ts";

/** JSON Schema of what an operator writes (defaults are optional there). */
export function inventoryJsonSchema(schema: InventorySchema): Record<string, unknown> {
  return {
    ...z.toJSONSchema(schema, { io: "input" }),
    $id: "https://hastack.dev/schema/inventory.schema.json",
    title: "hastack inventory",
  };
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  default?: unknown;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

/** The field table of docs/inventory.md, generated from the schema so the two never drift. */
export function inventoryReferenceTable(schema: InventorySchema): string {
  const rows: Row[] = [];
  walk(inventoryJsonSchema(schema) as JsonSchema, "", rows);
  const lines = ["| key | type | required | default | description |", "|---|---|---|---|---|"];
  for (const r of rows) {
    lines.push(
      `| \`${r.path}\` | ${r.type} | ${r.required ? "yes" : ""} | ${r.default} | ${r.description} |`,
    );
  }
  return lines.join("\n");
}

function walk(schema: JsonSchema, prefix: string, rows: Row[]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    rows.push(row(path, child, schema.required?.includes(key) ?? false));
    descend(child, path, rows);
  }
}

function descend(schema: JsonSchema, path: string, rows: Row[]): void {
  if (schema.properties) walk(schema, path, rows);
  if (typeof schema.additionalProperties === "object" && schema.additionalProperties.properties) {
    walk(schema.additionalProperties, `${path}.<name>`, rows);
  }
  if (schema.items?.properties) walk(schema.items, `${path}[]`, rows);
}

function row(path: string, s: JsonSchema, required: boolean): Row {
  return {
    path,
    type: typeName(s),
    required,
    default:
      s.default === undefined || typeof s.default === "object" ? "" : `\`${JSON.stringify(s.default)}\``,
    description: (s.description ?? "").replace(/\|/g, "\\|"),
  };
}

function typeName(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeName).join(" \\| ");
  if (s.type === "array") return `list of ${s.items ? typeName(s.items) : "any"}`;
  if (s.type === "object") {
    return typeof s.additionalProperties === "object" && !s.properties ? "map" : "object";
  }
  const range =
    s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? ""}..${s.maximum ?? ""})` : "";
  return `${s.format ?? (Array.isArray(s.type) ? s.type.join("/") : (s.type ?? "any"))}${range}`;
}
