/**
 * @module
 * `hastack status --json` polled until a condition on its report holds, for the lab's recovery
 * e2e tests. Every poll's failing checks are printed with its time: what keeps a site from
 * healthy after a recovery is a figure worth having, and a status run takes seconds of its own.
 */
import { expect } from "vitest";
import type { StatusReport } from "../health/types.ts";
import { hastackSync } from "./lab-cli.ts";

export interface StatusRun {
  code: number | null;
  report: StatusReport;
}

export function statusJson(inventory: string): StatusRun {
  const r = hastackSync(["status", "-i", inventory, "--json"], 300_000);
  return { code: r.code, report: JSON.parse(r.stdout) as StatusReport };
}

/** The state of check `service.probe@host` ("site" for a check of no host), or undefined. */
export function checkState(s: StatusRun, id: string): string | undefined {
  return s.report.checks.find((c) => `${c.service}.${c.probe}@${c.host ?? "site"}` === id)?.state;
}

/** Polls every 2 s until `good`, or fails with the last report's bad checks after `timeoutMs`. */
export async function statusUntil(
  inventory: string,
  what: string,
  good: (s: StatusRun) => boolean,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<StatusRun> {
  const started = Date.now();
  const since = () => `${Math.round((Date.now() - started) / 1000)} s`;
  for (;;) {
    const s = statusJson(inventory);
    if (good(s)) {
      log(`${what}: after ${since()}`);
      return s;
    }
    const bad = s.report.checks
      .filter((c) => c.state !== "ok")
      .map((c) => `${c.service}.${c.probe}@${c.host ?? "site"}: ${c.summary}`);
    log(`${what}: not yet at ${since()}: ${bad.join("; ").slice(0, 800)}`);
    if (Date.now() - started > timeoutMs)
      expect.fail(`${what}: not within ${timeoutMs / 1000} s; ${s.report.headline}\n${bad.join("\n")}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/**
 * A site that works on the survivors: degraded, never down, nothing of theirs down, and what they
 * serve answers (SQL written via the VIP, AMQP, a token on each). What stays degraded is the lost
 * one's absence: Galera size 2/3, 2/3 RabbitMQ nodes, HAProxy's servers on it.
 */
export function degradedOnlyBy(lost: string, survivors: readonly string[]): (s: StatusRun) => boolean {
  const serving = [
    "galera.write@site",
    ...survivors.flatMap((h) => [`rabbitmq.amqp@${h}`, `keystone.token@${h}`]),
  ];
  return (s) =>
    s.code === 1 &&
    s.report.checks.every((c) => c.state === "ok" || c.host === lost || c.state === "degraded") &&
    serving.every((id) => checkState(s, id) === "ok");
}
