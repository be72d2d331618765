/**
 * @module
 * What `backup run`, `list`, `verify` and `restore` share: each controller's Galera state and
 * role in serving clients (the internal VIP's holder, HAProxy's SQL writer), the store the
 * site's backups live in, and errors that name the host, the step and the cause.
 */

import { runTool } from "../../hostkit/command.ts";
import { parseRows } from "../../hostkit/sql.ts";
import { storageHosts } from "../../services/ceph/layout.ts";
import type { Topology } from "../../topology/types.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { chooseHolder, NODE_STATE_SQL, type NodeFacts, NodeStateSchema } from "./choose-host.ts";
import type { BackupStore } from "./store.ts";
import { cephStore } from "./store-ceph.ts";
import { controllerStore } from "./store-controller.ts";

export interface BackupContext {
  topology: Topology;
  transport: (host: string) => Transport;
  /** Progress lines for the operator. */
  print: (line: string) => void;
  now?: () => Date;
  /** The secrets file's values: RabbitMQ's administrator for the definitions (never printed). */
  secrets?: Readonly<Record<string, string>>;
}

const PROBE_MS = 20_000;

/** Every controller's facts, read in parallel; an unreachable one is a fact too (`why`). */
export async function controllerFacts(ctx: BackupContext): Promise<NodeFacts[]> {
  const names = ctx.topology.roles.controller;
  const vip = ctx.topology.vips.internal;
  return Promise.all(
    names.map(async (host, i): Promise<NodeFacts> => {
      const base = { host, holdsVip: false, writer: i === 0 };
      try {
        const t = ctx.transport(host);
        const addr = await t.exec(["ip", "-o", "-4", "addr", "show"], { timeoutMs: PROBE_MS });
        const holdsVip = addr.code === 0 && addr.stdout.includes(` ${vip}/`);
        const r = await t.exec(["mariadb", "-N", "-B"], {
          stdin: `${NODE_STATE_SQL};\n`,
          timeoutMs: PROBE_MS,
        });
        if (r.code !== 0)
          return { ...base, holdsVip, why: `MariaDB does not answer: ${r.stderr.trim().split("\n").at(-1)}` };
        const parsed = NodeStateSchema.safeParse(
          Object.fromEntries(parseRows(r.stdout).map(([k, v]) => [k, v])),
        );
        if (!parsed.success) return { ...base, holdsVip, why: "not a Galera node (no wsrep status)" };
        return { ...base, holdsVip, state: parsed.data };
      } catch (error) {
        return { ...base, unreachable: true, why: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/** Controllers that answered at all (SSH), for the controller store and a scratch restore. */
export function reachable(nodes: readonly NodeFacts[]): NodeFacts[] {
  return nodes.filter((n) => !n.unreachable);
}

/** The site's Ceph when it has one; else another controller than `source` (a new backup's holder). */
export function siteStore(
  ctx: BackupContext,
  nodes: readonly NodeFacts[],
  via: string,
  source?: string,
): BackupStore {
  if (storageHosts(ctx.topology).length > 0) return cephStore(() => ctx.transport(via));
  const up = reachable(nodes);
  return controllerStore({
    holder: ctx.transport(source ? chooseHolder(source, up) : via),
    controllers: up.map((n) => ctx.transport(n.host)),
    warn: (line) => ctx.print(`warning: ${line}`),
  });
}

/**
 * Runs one step; a failure becomes "Cannot <verb> on <host>: <step>: <cause>" with `code`, the
 * cause's own sentence kept (it says the tool, the exit code and its last words).
 */
export async function step<T>(
  code: "E_BACKUP" | "E_BACKUP_VERIFY" | "E_BACKUP_RESTORE",
  verb: string,
  host: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    // The cause's own "Cannot <x> on <host>: " would say the host twice: its rest is kept.
    const message = error instanceof Error ? error.message : String(error);
    const prefix = `^Cannot .+? on ${host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `;
    const cause = message.replace(new RegExp(prefix), "");
    const hint = error instanceof HastackError ? error.hint : undefined;
    throw new HastackError(code, `Cannot ${verb} on ${host}: ${what}: ${cause}`, { cause: error, hint });
  }
}

/** A bash script on a host; its non-zero exit is an error with the script's last words. */
export function script(t: Transport, what: string, text: string, timeoutMs = 3_600_000) {
  return runTool(t, "E_BACKUP", what, ["bash", "-c", text], { timeoutMs });
}
