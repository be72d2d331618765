/**
 * @module
 * For tests of OpenStack services: read a rendered oslo INI file, run a deploy step as the
 * engine does (check, apply when check says no, check again) on a host's transport, and a
 * recording transport that answers from a script.
 */
import { makeStepContext } from "../../deploy/context.ts";
import type { Topology } from "../../topology/types.ts";
import type { ExecOptions, ExecResult, Transport } from "../../transport/types.ts";
import type { ServiceDef, StepSpec } from "../types.ts";
import { MEMO_DIR } from "./schema-memo.ts";

/** [section] -> key -> value, as oslo.config reads it (a later duplicate key wins). */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header?.[1]) {
      out[header[1]] ??= {};
      section = out[header[1]];
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq === -1) throw new Error(`Cannot parse INI line: ${line}`);
    section[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export interface StepRun {
  /** What the first check said. */
  before: boolean;
  applied: boolean;
  /** What the check said after apply (or the first answer when nothing was applied). */
  after: boolean;
  log: string[];
}

/** One step on one host, the engine's way. Secrets by name; logs collected for assertions. */
export async function runStep(input: {
  service: string;
  step: StepSpec;
  host: string;
  topology: Topology;
  services: readonly ServiceDef[];
  transport: Transport;
  secrets: Readonly<Record<string, string>>;
}): Promise<StepRun> {
  const log: string[] = [];
  const logger = (m: string) => log.push(m);
  const ctx = makeStepContext({
    step: `${input.service}.${input.step.id}`,
    host: input.host,
    topology: input.topology,
    services: input.services,
    files: new Map(),
    transports: new Map([[input.host, input.transport]]),
    dryRun: false,
    signal: new AbortController().signal,
    timeoutMs: 120_000,
    log: { info: logger, warn: logger, debug: () => {} },
    secrets: input.secrets,
    redact: (text) => text,
  });
  const before = (await input.step.check?.(ctx)) ?? false;
  if (before) return { before, applied: false, after: true, log };
  await input.step.apply?.(ctx);
  return { before, applied: true, after: (await input.step.check?.(ctx)) ?? false, log };
}

export interface Recorded {
  argv: string;
  stdin: string;
  timeoutMs?: number;
}

/**
 * A transport that answers commands from a script and records them (argv joined by spaces,
 * stdin, timeout), for checking what a step or probe runs on a host without one. `answer` gets
 * the joined argv; an unanswered command exits 127 as an unknown one would.
 */
export function recordingTransport(
  name: string,
  answer: (argv: string, stdin: string) => Partial<ExecResult> | undefined,
): Transport & { seen: Recorded[] } {
  const seen: Recorded[] = [];
  const exec = async (command: string[] | string, opts?: ExecOptions): Promise<ExecResult> => {
    const argv = typeof command === "string" ? command : command.join(" ");
    seen.push({
      argv,
      stdin: String(opts?.stdin ?? ""),
      ...(opts?.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    });
    const a = answer(argv, String(opts?.stdin ?? ""));
    return { code: a ? 0 : 127, stdout: "", stderr: a ? "" : `${argv}: not found`, durationMs: 1, ...a };
  };
  const none = async (): Promise<never> => {
    throw new Error(`${name}: the recording transport only runs commands`);
  };
  return {
    name,
    seen,
    exec,
    execRaw: none,
    readFile: none,
    writeFile: none,
    writeFiles: none,
    stat: none,
    close: async () => {},
  };
}

/** What a recording transport ran, without the schema memo's reads and writes (schema-memo.ts). */
export function toolCalls(t: { seen: Recorded[] }): Recorded[] {
  return t.seen.filter((s) => !s.argv.includes(MEMO_DIR));
}
