/**
 * @module
 * Nova's control plane on the controllers: its two schemas and its cells, once, on the bootstrap
 * controller and never racing (runbook E8), each gated by what nova-manage says; then its daemons
 * on every controller, waited for until each API answers on the management address.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import { lastLine } from "../../util/text.ts";
import { alembicHeadCheck } from "../openstack/alembic.ts";
import { rememberedSchemaCheck } from "../openstack/schema-memo.ts";
import type { ApiAnswer, SchemaCheck } from "../openstack/spec.ts";
import { answers, START_WAIT_MS } from "../openstack/start-step.ts";
import { schemaState } from "../openstack/sync-step.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { type Cell, cellsFromDb } from "./cell-db.ts";
import { CELL0_UUID, novaManage, parseOnlineMigrations } from "./manage.ts";

const SYNC_TIMEOUT_MS = 900_000;
const CHECK_TIMEOUT_MS = 120_000;

/**
 * nova-manage has no "is it current" check: `api_db version` and `db version` print the stored
 * alembic revision ("None" before the first sync), and the head the installed code knows comes
 * from its migration scripts (nova/db/migration.py's alembic.ini, no database access).
 */
export function schemaCheck(db: "api" | "main"): SchemaCheck {
  return alembicHeadCheck({
    current: ["nova-manage", db === "api" ? "api_db" : "db", "version"],
    module: "nova.db",
    config: `_find_alembic_conf('${db}')`,
  });
}

function schemaStep(id: string, db: "api" | "main", title: string): StepSpec {
  const check = schemaCheck(db);
  const apply = novaManage(db === "api" ? "api_db" : "db", "sync");
  return {
    id,
    title,
    on: "bootstrap",
    timeoutMs: SYNC_TIMEOUT_MS + 2 * CHECK_TIMEOUT_MS,
    async check(ctx) {
      // `db sync` migrates cell0 as well as the main database.
      const memo = {
        package: "python3-nova",
        databases: db === "api" ? ["nova_api"] : ["nova", "nova_cell0"],
      };
      const state = await rememberedSchemaCheck(ctx, memo, () => schemaState(ctx, "nova", check));
      if (state !== true) ctx.log.info(`${db === "api" ? "nova_api" : "nova"} schema: ${state}`);
      return state === true;
    },
    async apply(ctx) {
      await ctx.run(apply, { timeoutMs: SYNC_TIMEOUT_MS });
    },
  };
}

/** What is still missing: cell0 (by its fixed UUID) and cell1 (by name). */
export function missingCells(cells: readonly Cell[]): ("cell0" | "cell1")[] {
  const out: ("cell0" | "cell1")[] = [];
  if (!cells.some((c) => c.uuid === CELL0_UUID)) out.push("cell0");
  if (!cells.some((c) => c.name === "cell1")) out.push("cell1");
  return out;
}

/**
 * map_cell0 says 0 when cell0 is already there, but create_cell would add a second cell1 (it
 * refuses only the same transport and database URLs), so both are gated on the cell mappings
 * (read by SQL, cell-db.ts). cell1 takes
 * nova.conf's transport_url (every broker) and [database] connection, as they are on this host.
 */
export const cellsStep: StepSpec = {
  id: "cells",
  title: "Map cell0 and create cell1 (nova-manage cell_v2), each only when list_cells lacks it",
  on: "bootstrap",
  async check(ctx) {
    const missing = missingCells(await cellsFromDb(ctx));
    if (missing.length > 0) ctx.log.info(`cells missing: ${missing.join(", ")}`);
    return missing.length === 0;
  },
  async apply(ctx) {
    const missing = missingCells(await cellsFromDb(ctx));
    if (missing.includes("cell0")) await ctx.run(novaManage("cell_v2", "map_cell0"));
    if (missing.includes("cell1"))
      await ctx.run(novaManage("cell_v2", "create_cell", "--name=cell1", "--verbose"));
  },
};

/**
 * Online data migrations have no dry run: they are run once per installed Nova version (a new
 * package may bring new ones), recorded in a marker beside Nova's state. They come last, after
 * every compute runs the new code, as upstream asks for upgrades.
 */
export const MIGRATED_MARKER = "/var/lib/nova/.hastack-online-migrations";
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format, not a template
const NOVA_VERSION = ["dpkg-query", "-W", "-f", "${Version}", "nova-common"];

async function novaVersion(ctx: StepContext): Promise<string> {
  return (await ctx.run(NOVA_VERSION)).stdout.trim();
}

export const onlineMigrationsStep: StepSpec = {
  id: "online-migrations",
  title: "nova-manage db online_data_migrations, once per installed Nova version",
  on: "bootstrap",
  timeoutMs: SYNC_TIMEOUT_MS + 2 * CHECK_TIMEOUT_MS,
  async check(ctx) {
    const version = await novaVersion(ctx);
    const done = await ctx.transport.exec(["cat", MIGRATED_MARKER]);
    return done.code === 0 && done.stdout.trim() === version;
  },
  async apply(ctx) {
    const version = await novaVersion(ctx);
    // Exit 0 once nothing is left (it loops over batches of 50); 2 when a migration failed.
    const r = await ctx.run(novaManage("db", "online_data_migrations"), { timeoutMs: SYNC_TIMEOUT_MS });
    const rows = parseOnlineMigrations(ctx.transport, r.stdout);
    const done = rows.filter((m) => m.done > 0);
    ctx.log.info(
      done.length === 0
        ? `no rows to migrate (${rows.length} migrations checked)`
        : `migrated ${done.map((m) => `${m.name} ${m.done}/${m.found}`).join(", ")}`,
    );
    await ctx.run(["tee", MIGRATED_MARKER], { stdin: version });
  },
};

/** Every controller daemon; conductor and scheduler answer nothing, they are running or not. */
export const CONTROLLER_UNITS = [
  "nova-api.service",
  "nova-api-metadata.service",
  "nova-conductor.service",
  "nova-scheduler.service",
  "nova-novncproxy.service",
];

/** What each API answers on the management address, unauthenticated, once up (nova's source). */
export const CONTROLLER_ANSWERS: ApiAnswer[] = [
  // nova/api/openstack/compute/versions.py: `/` is the index (200); any other path 300.
  { endpoint: "nova", path: "/", status: 200 },
  // nova/api/metadata/handler.py: `/` lists the metadata versions, no instance needed.
  { endpoint: "nova-metadata", path: "/", status: 200 },
  // websockify serves noVNC's page as a static file.
  { endpoint: "nova-novncproxy", path: "/vnc_lite.html", status: 200 },
];

async function allAnswer(ctx: StepContext): Promise<true | string> {
  const wrong: string[] = [];
  for (const a of CONTROLLER_ANSWERS) {
    const said = await answers(ctx, "nova", { units: CONTROLLER_UNITS, answers: a });
    if (said !== true) wrong.push(said);
  }
  return wrong.length === 0 ? true : wrong.join("; ");
}

export function startStep(hosts: string[]): StepSpec {
  return {
    id: "start",
    title: `Start ${CONTROLLER_UNITS.join(" ")} at boot and now; wait until the compute API (200 at /), metadata API (200 at /) and noVNC proxy answer on the management address`,
    on: "each",
    hosts,
    async check(ctx) {
      if ((await enabledOf(ctx.transport, CONTROLLER_UNITS)).length < CONTROLLER_UNITS.length) return false;
      const stopped = await inactiveOf(ctx.transport, CONTROLLER_UNITS);
      if (stopped.length > 0) {
        ctx.log.info(`not running: ${stopped.join(", ")}`);
        return false;
      }
      const said = await allAnswer(ctx);
      if (said !== true) ctx.log.info(lastLine(said, 400));
      return said === true;
    },
    async apply(ctx) {
      const on = await enabledOf(ctx.transport, CONTROLLER_UNITS);
      const off = CONTROLLER_UNITS.filter((u) => !on.includes(u));
      if (off.length > 0) await systemctl(ctx.transport, "enable", off);
      const stopped = await inactiveOf(ctx.transport, CONTROLLER_UNITS);
      if (stopped.length > 0) await startDeliberately(ctx.transport, "start", stopped);
      await waitUntil(ctx, "get an answer from nova's APIs", () => allAnswer(ctx), {
        timeoutMs: START_WAIT_MS,
        intervalMs: 2000,
      });
    },
  };
}

export function controlPlaneSteps(controllers: string[]): StepSpec[] {
  return [
    schemaStep(
      "api-db-sync",
      "api",
      "nova-manage api_db sync as nova on one controller, when nova_api is behind",
    ),
    cellsStep,
    schemaStep(
      "db-sync",
      "main",
      "nova-manage db sync (cell0 and cell1) as nova on one controller, when nova is behind",
    ),
    startStep(controllers),
  ];
}
