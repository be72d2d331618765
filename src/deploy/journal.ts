/**
 * @module
 * One JSON-lines journal per run in `<inventory dir>/.hastack/runs/<id>.jsonl`: every event of the
 * run, appended as it happens (synchronously, so a crash loses at most the line being written).
 * `--resume` reads the latest one back.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import type { PendingRestart } from "./events.ts";
import type { Reporter } from "./reporter.ts";

export function runsDir(inventoryPath: string): string {
  return join(dirname(inventoryPath), ".hastack", "runs");
}

/** Sortable by time (to the millisecond, so "the newest run" is the last name), unique enough. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, "").replace(".", "")}-${randomBytes(2).toString("hex")}`;
}

export function journalReporter(dir: string, runId: string): Reporter & { path: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${runId}.jsonl`);
  return {
    path,
    emit(event) {
      appendFileSync(path, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`, {
        mode: 0o600,
      });
    },
    close: async () => {},
  };
}

const Pending = z.object({
  host: z.string(),
  service: z.string(),
  restart: z.array(z.string()),
  reload: z.array(z.string()),
});
const Line = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("run-start"),
    runId: z.string(),
    dryRun: z.boolean(),
    fingerprint: z.string(),
    limit: z.array(z.string()).optional(),
    done: z.array(z.string()),
    pendingRestarts: z.array(Pending),
  }),
  z.object({ type: z.literal("step-end"), key: z.string(), status: z.string() }),
  z.object({ type: z.literal("restart-scheduled"), ...Pending.shape }),
  z.object({ type: z.literal("restart-done"), host: z.string(), service: z.string() }),
  z.object({ type: z.literal("run-end"), status: z.enum(["ok", "failed"]) }),
]);
const known = new Set(["run-start", "step-end", "restart-scheduled", "restart-done", "run-end"]);

/** What a later run needs from an earlier one. */
export interface ResumeState {
  runId: string;
  fingerprint: string;
  limit?: string[];
  /** undefined when the run never got to write its end (killed, crashed, lost the machine). */
  status: "ok" | "failed" | undefined;
  done: Set<string>;
  pendingRestarts: PendingRestart[];
}

export function readJournal(path: string): ResumeState {
  const lines = readFileSync(path, "utf8").split("\n");
  let state: ResumeState | undefined;
  const pending = new Map<string, PendingRestart>();
  for (const [i, text] of lines.entries()) {
    if (text.trim() === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      // The last line may be torn by a crash; anything earlier is corruption.
      if (i >= lines.length - 2) break;
      throw new HastackError("E_JOURNAL", `Cannot read journal ${path}: line ${i + 1} is not JSON`, {
        cause,
      });
    }
    if (!known.has((raw as { type?: string }).type ?? "")) continue;
    const parsed = Line.safeParse(raw);
    if (!parsed.success)
      throw new HastackError(
        "E_JOURNAL",
        `Cannot read journal ${path}: line ${i + 1}: ${parsed.error.message}`,
      );
    const e = parsed.data;
    if (e.type === "run-start") {
      state = {
        runId: e.runId,
        fingerprint: e.fingerprint,
        limit: e.limit,
        status: undefined,
        done: new Set(e.done),
        pendingRestarts: [],
      };
      for (const p of e.pendingRestarts) pending.set(`${p.host}/${p.service}`, p);
      if (e.dryRun) throw new HastackError("E_JOURNAL", `Journal ${path} is a dry run`);
    } else if (!state) {
      throw new HastackError("E_JOURNAL", `Cannot read journal ${path}: it does not start with run-start`);
    } else if (e.type === "step-end") {
      if (e.status === "ok" || e.status === "changed" || e.status === "resumed") state.done.add(e.key);
    } else if (e.type === "restart-scheduled") {
      pending.set(`${e.host}/${e.service}`, {
        host: e.host,
        service: e.service,
        restart: e.restart,
        reload: e.reload,
      });
    } else if (e.type === "restart-done") {
      pending.delete(`${e.host}/${e.service}`);
    } else {
      state.status = e.status;
    }
  }
  if (!state) throw new HastackError("E_JOURNAL", `Cannot read journal ${path}: it is empty`);
  state.pendingRestarts = [...pending.values()];
  return state;
}

/** A deploy run's journal: `newRunId()` then `.jsonl`. */
const DEPLOY_JOURNAL = /^\d{8}T\d{9}Z-[0-9a-f]{4}\.jsonl$/;

/** The newest deploy journal in the runs dir, or undefined when there is none. */
export function latestJournal(dir: string): string | undefined {
  let names: string[];
  try {
    // Other commands journal in the same directory (recover-*.jsonl, restore-*.jsonl): only a
    // deploy run's own name counts, or `--resume` would read a restore's journal as a deploy's.
    names = readdirSync(dir).filter((n) => DEPLOY_JOURNAL.test(n));
  } catch {
    return undefined;
  }
  const last = names.sort().at(-1);
  return last ? join(dir, last) : undefined;
}
