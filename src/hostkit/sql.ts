/**
 * @module
 * SQL on a host through the mariadb client as the OS root (socket login). The statements go on
 * stdin, never in argv: they may carry passwords, and argv is visible to `ps` on the host.
 */
import type { ExecOptions, Transport } from "../transport/types.ts";
import { runTool } from "./command.ts";

export interface SqlOptions extends ExecOptions {
  database?: string;
  /** mariadb --defaults-extra-file: log in with these credentials instead of the socket. */
  defaultsFile?: string;
}

/** Rows of tab-separated columns (`mariadb -N -B`), empty lines dropped. */
export function parseRows(stdout: string): string[][] {
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\t"));
}

/** Runs the statements; the result rows of the last one. Throws E_SQL naming the host. */
export async function sql(t: Transport, statements: string, opts: SqlOptions = {}): Promise<string[][]> {
  const { database, defaultsFile, ...exec } = opts;
  const argv = [
    "mariadb",
    ...(defaultsFile ? [`--defaults-extra-file=${defaultsFile}`] : []),
    "-N",
    "-B",
    ...(database ? [database] : []),
  ];
  const stdin = statements.trimEnd().endsWith(";")
    ? `${statements.trimEnd()}\n`
    : `${statements.trimEnd()};\n`;
  const r = await runTool(t, "E_SQL", "run SQL", argv, { timeoutMs: 30_000, ...exec, stdin });
  return parseRows(r.stdout);
}

/** Global status variables by name (wsrep_*), or undefined when MariaDB does not answer. */
export async function globalStatus(
  t: Transport,
  names: readonly string[],
  opts: ExecOptions = {},
): Promise<Record<string, string> | undefined> {
  const list = names.map(sqlString).join(",");
  try {
    const rows = await sql(t, `SHOW GLOBAL STATUS WHERE Variable_name IN (${list})`, {
      timeoutMs: 15_000,
      ...opts,
    });
    return Object.fromEntries(rows.map(([k = "", v = ""]) => [k, v]));
  } catch {
    return undefined;
  }
}

/** A SQL string literal (values here are generated secrets and names; quoted anyway). */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
