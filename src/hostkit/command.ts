/**
 * @module
 * What every host toolkit module shares: run a tool through a Transport and turn a non-zero exit
 * into a HastackError worded "Cannot <what> on <host>: exit code N: <last lines>".
 */
import type { z } from "zod";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";
import { type ErrorCode, HastackError } from "../util/errors.ts";
import { lastLines } from "../util/text.ts";

/** Runs argv; throws `code` naming what failed, the host and the tool's last words. */
export async function runTool(
  t: Pick<Transport, "name" | "exec">,
  code: ErrorCode,
  what: string,
  argv: string[],
  opts?: ExecOptions,
): Promise<ExecResult> {
  const r = await t.exec(argv, opts);
  if (r.code !== 0) throw toolFailure(t, code, what, r);
  return r;
}

export function toolFailure(
  t: Pick<Transport, "name">,
  code: ErrorCode,
  what: string,
  r: ExecResult,
): HastackError {
  const detail = lastLines(r.stderr || r.stdout, 2);
  return new HastackError(
    code,
    `Cannot ${what} on ${t.name}: exit code ${r.code}${detail ? `: ${detail}` : ""}`,
  );
}

/**
 * Parses a tool's output through a zod schema: a tool that answers something other than what it
 * documents is an error that names the tool, never a silent `undefined` further on.
 */
export function parseToolOutput<S extends z.ZodType>(
  t: Pick<Transport, "name">,
  tool: string,
  schema: S,
  data: unknown,
): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const where = result.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`)
    .join("; ");
  throw new HastackError("E_TOOL_OUTPUT", `Cannot read ${tool}'s answer on ${t.name}: ${where}`);
}

/** JSON.parse that says which tool's output was not JSON. */
export function parseToolJson(t: Pick<Transport, "name">, tool: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot read ${tool}'s answer on ${t.name}: not JSON: ${lastLines(text, 1).slice(0, 120)}`,
    );
  }
}
