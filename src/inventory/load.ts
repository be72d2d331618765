import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from "yaml";
import type { z } from "zod";
import { HastackError, type Problem, type SourcePosition } from "../util/errors.ts";
import type { InventorySchema } from "./assemble.ts";
import type { Inventory } from "./schema.ts";

/** A parsed YAML file that can say where any path in it was written. */
export interface SourceDoc {
  file: string;
  value: unknown;
  /** Where `path` is written; with key: true, the position of the last key rather than its value. */
  positionOf(path: readonly (string | number)[], opts?: { key?: boolean }): SourcePosition;
}

export interface LoadedInventory {
  inventory: Inventory;
  source: SourceDoc;
}

export type LoadResult =
  | { ok: true; value: LoadedInventory }
  /** `partial`: the inventory with every invalid value pruned, so semantic checks can still run. */
  | { ok: false; problems: Problem[]; partial?: LoadedInventory };

export async function readSource(file: string): Promise<{ file: string; text: string }> {
  const path = resolve(file);
  try {
    return { file: path, text: await readFile(path, "utf8") };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new HastackError("E_INVENTORY_READ", `Cannot read inventory ${path}: ${code ?? String(cause)}`, {
      cause,
      hint: "pass the inventory with -i FILE",
    });
  }
}

/** Parses YAML text, returning YAML syntax problems with their positions (never throwing). */
export function parseSource(file: string, text: string): { doc?: SourceDoc; problems: Problem[] } {
  // The yaml library's uniqueKeys compares each key with every earlier key of its map: 0.3 s of
  // a 5,000-host inventory. Parse without it and look for a repeated key in one pass; only a file
  // that has one is parsed again with it, so its errors are the library's own, in its order.
  let lineCounter = new LineCounter();
  let document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false });
  if (hasRepeatedKey(document)) {
    lineCounter = new LineCounter();
    document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  }
  const problems: Problem[] = [];
  for (const error of document.errors) {
    const [line, col] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
    problems.push({
      severity: "error",
      code: `E_YAML_${error.code}`,
      message: firstLine(error.message),
      hint: "fix the YAML syntax at this position",
      path: [],
      pos: { file, line, col },
    });
  }
  if (problems.length > 0) return { problems };

  function positionOf(path: readonly (string | number)[], opts?: { key?: boolean }): SourcePosition {
    const node = deepestNode(document.contents, path, opts?.key ?? false);
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  }
  return { doc: { file, value: document.toJS(), positionOf }, problems };
}

/** Reads, parses and schema-checks an inventory, collecting every problem. */
export async function loadInventory(file: string, schema: InventorySchema): Promise<LoadResult> {
  const { file: path, text } = await readSource(file);
  const { doc, problems } = parseSource(path, text);
  if (!doc) return { ok: false, problems };
  const parsed = schema.safeParse(doc.value ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => issueToProblem(issue, doc));
    const pruned = pruneInvalid(schema, doc.value, parsed.error.issues);
    return pruned
      ? { ok: false, problems, partial: { inventory: pruned, source: doc } }
      : { ok: false, problems };
  }
  return { ok: true, value: { inventory: parsed.data as Inventory, source: doc } };
}

/**
 * Removes each value the schema rejected and parses again, a few rounds at most. One schema error
 * then does not hide the semantic errors elsewhere in the file: validate reports them all at once.
 */
function pruneInvalid(
  schema: InventorySchema,
  value: unknown,
  first: z.core.$ZodIssue[],
): Inventory | undefined {
  const data = structuredClone(value);
  let issues = first;
  for (let round = 0; round < 5; round++) {
    for (const issue of issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) removeAt(data, [...path, key]);
      } else if (path.length > 0) {
        removeAt(data, path);
      }
    }
    const again = schema.safeParse(data);
    if (again.success) return again.data as Inventory;
    issues = again.error.issues;
  }
  return undefined;
}

function removeAt(root: unknown, path: readonly (string | number)[]): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string | number, unknown>)[key];
  }
  const last = path.at(-1);
  if (last === undefined || typeof node !== "object" || node === null) return;
  if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
  else delete (node as Record<string | number, unknown>)[last];
}

function issueToProblem(issue: z.core.$ZodIssue, doc: SourceDoc): Problem {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const where = path.length > 0 ? path.join(".") : "the document";
  // An unknown key is best shown where it is written, not at its parent.
  const at = issue.code === "unrecognized_keys" && issue.keys[0] ? [...path, issue.keys[0]] : path;
  const problem: Problem = {
    severity: "error",
    code: `E_SCHEMA_${issue.code.toUpperCase() as Uppercase<typeof issue.code>}`,
    message: `${where}: ${describeIssue(issue)}`,
    path: at,
    pos: doc.positionOf(at, { key: issue.code === "unrecognized_keys" }),
  };
  const hint = hintFor(issue);
  if (hint) problem.hint = hint;
  return problem;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys")
    return `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(", ")}`;
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `is required (expected ${issue.expected})`;
  }
  return issue.message;
}

function hintFor(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "unrecognized_keys") return "remove it or check its spelling against docs/inventory.md";
  if (issue.code === "invalid_value" && "values" in issue) {
    return `use one of: ${issue.values.map((v) => String(v)).join(", ")}`;
  }
  if (issue.code === "invalid_type") return `write a ${issue.expected} here (see docs/inventory.md)`;
  return undefined;
}

/**
 * Whether some map may have a key twice as uniqueKeys: true compares keys (two scalars whose
 * values are ===), in one pass. It never misses one; a false alarm (NaN twice) costs a parse.
 */
function hasRepeatedKey(document: Document): boolean {
  let found = false;
  visit(document, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (seen.has(value)) {
          found = true;
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return found;
}

/** The node at `path`, or the deepest existing ancestor (a missing key points at its parent). */
function deepestNode(root: unknown, path: readonly (string | number)[], wantKey: boolean): Node | undefined {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const [index, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
      if (!pair || !isPair(pair)) break;
      node = pair.value ?? pair.key;
      const last = index === path.length - 1;
      // A null value has no position of its own: point at the key.
      if (isNode(pair.value) && !(last && wantKey)) found = pair.value;
      else if (isNode(pair.key)) found = pair.key;
    } else if (isSeq(node) && typeof key === "number") {
      node = node.items[key];
      if (isNode(node)) found = node;
      else break;
    } else {
      break;
    }
  }
  return found;
}

/** The yaml library's first line, without its own " at line L, column C:" (we print the position). */
function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}
