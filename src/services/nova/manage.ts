/**
 * @module
 * nova-manage's answers. Its listings are PrettyTable tables (nova/cmd/manage.py): a border
 * line of `+` and `-`, a header row, a border, the rows, a border. Columns are cut where the
 * border's `+` are, so a `|` inside a value (a URL's query) cannot shift them; each row then goes
 * through zod. Every command runs as the nova user: as root it would leave a root-owned
 * /var/log/nova/nova-manage.log the services cannot open.
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { asUser } from "../openstack/sync-step.ts";

/** `runuser -u nova -- nova-manage ARGS`. */
export function novaManage(...args: string[]): string[] {
  return asUser("nova", ["nova-manage", ...args]);
}

/** The rows of the first PrettyTable in `text`, keyed by the header's names. */
export function parsePrettyTable(text: string): Record<string, string>[] | undefined {
  const lines = text.split("\n").map((l) => l.trimEnd());
  const top = lines.findIndex((l) => /^\+(-+\+)+$/.test(l));
  if (top === -1) return undefined;
  const border = lines[top] ?? "";
  const cuts = [...border.matchAll(/\+/g)].map((m) => m.index);
  const cells = (line: string) => cuts.slice(0, -1).map((at, i) => line.slice(at + 1, cuts[i + 1]).trim());
  const header = lines[top + 1];
  if (!header?.startsWith("|")) return undefined;
  const names = cells(header);
  const rows: Record<string, string>[] = [];
  // Header, border, then rows until the closing border.
  for (const line of lines.slice(top + 3)) {
    if (!line.startsWith("|")) break;
    rows.push(Object.fromEntries(cells(line).map((value, i) => [names[i] ?? `column${i}`, value])));
  }
  return rows;
}

function table<S extends z.ZodType>(t: Pick<Transport, "name">, tool: string, row: S, stdout: string) {
  const rows = parsePrettyTable(stdout);
  if (!rows)
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read ${tool}'s answer on ${t.name}: no table in it`);
  return parseToolOutput(t, tool, z.array(row), rows);
}

/** cell0's fixed UUID (objects.CellMapping.CELL0_UUID). */
export const CELL0_UUID = "00000000-0000-0000-0000-000000000000";

/** `nova-manage db online_data_migrations`: per migration, rows found and rows migrated. */
const MigrationRow = z
  .object({
    Migration: z.string().min(1),
    "Total Needed": z.coerce.number().int().min(0),
    Completed: z.coerce.number().int().min(0),
  })
  .transform((r) => ({ name: r.Migration, found: r["Total Needed"], done: r.Completed }));
export type OnlineMigration = z.output<typeof MigrationRow>;

export function parseOnlineMigrations(t: Pick<Transport, "name">, stdout: string): OnlineMigration[] {
  return table(t, "nova-manage db online_data_migrations", MigrationRow, stdout);
}
