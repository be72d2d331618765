/**
 * @module
 * The engine's REST API and its scrape (issue #10 item 7), as a Hono app: JSON for people and
 * tools, the Prometheus text format at /metrics. Read-only: nothing here acts on a host.
 *
 *   GET /v1/hosts                          every compute: phase, since, heartbeat ages, power
 *   GET /v1/hosts/:host                    one compute (404 names the known ones)
 *   GET /v1/history?host=&kind=&since=&limit=   the history store's entries, oldest first
 *   GET /metrics                           Prometheus text format 0.0.4
 *   GET /healthz                           200 while the process answers; says if it is the acting engine
 *
 * Errors are JSON `{ error: { code, message, hint? } }` with a code from src/util/error-codes.ts.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, HastackError } from "../../util/errors.ts";
import type { EngineLog } from "../engine-actions.ts";
import type { Store } from "../store.ts";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition.ts";
import { gaugeFamilies } from "./gauges.ts";
import type { HaMetrics } from "./metrics.ts";
import { HistoryParams, HostsParams, parseQuery } from "./params.ts";
import { type HaSource, hostReports } from "./source.ts";

/** What the API reads of the history store; store.ts's Store satisfies it. */
export type HistoryReader = Pick<Store, "history">;

export interface HaHttpDeps {
  source: HaSource;
  store: HistoryReader;
  metrics: HaMetrics;
  log: EngineLog;
}

const STORE_CODES: ReadonlySet<ErrorCode> = new Set([
  "E_HA_STORE_CONNECT",
  "E_HA_STORE_QUERY",
  "E_HA_STORE_ROW",
  "E_HA_STORE_SCHEMA",
]);

/** The status each code answers with; a store's failure is the database's, not the caller's. */
function statusOf(e: HastackError): ContentfulStatusCode {
  if (e.code === "E_HA_API_QUERY") return 400;
  if (e.code === "E_HA_API_HOST" || e.code === "E_HA_API_ROUTE") return 404;
  if (STORE_CODES.has(e.code)) return 503;
  return 500;
}

export function createHaApp(deps: HaHttpDeps): Hono {
  const { source, store, metrics, log } = deps;
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ ok: true, active: source.leader(), dryRun: source.dryRun }));

  app.get("/metrics", (c) => {
    const body = renderExposition([...metrics.families(), ...gaugeFamilies(source)]);
    return c.body(body, 200, { "Content-Type": EXPOSITION_CONTENT_TYPE });
  });

  app.get("/v1/hosts", (c) => {
    parseQuery(HostsParams, c.req.query(), "list the hosts");
    return c.json({ active: source.leader(), dryRun: source.dryRun, hosts: hostReports(source) });
  });

  app.get("/v1/hosts/:host", (c) => {
    parseQuery(HostsParams, c.req.query(), "show a host");
    const host = c.req.param("host");
    const reports = hostReports(source);
    const found = reports.find((r) => r.host === host);
    if (!found) {
      const known = reports.map((r) => r.host);
      const e = new HastackError(
        "E_HA_API_HOST",
        `Cannot show ${host}: the engine neither watches nor hears it`,
        { hint: known.length ? `known hosts: ${known.join(", ")}` : "the engine knows no host yet" },
      );
      return c.json({ error: errorBody(e), known }, 404);
    }
    return c.json(found);
  });

  app.get("/v1/history", async (c) => {
    const q = parseQuery(HistoryParams, c.req.query(), "read the history");
    return c.json({ events: await store.history(q) });
  });

  app.notFound((c) => {
    const e = new HastackError("E_HA_API_ROUTE", `Cannot ${c.req.method} ${c.req.path}: no such path`, {
      hint: "GET /v1/hosts, /v1/hosts/:host, /v1/history, /metrics or /healthz",
    });
    return c.json({ error: errorBody(e) }, 404);
  });

  app.onError((err, c) => {
    const e =
      err instanceof HastackError
        ? err
        : new HastackError(
            "E_HA_API_INTERNAL",
            `Cannot answer ${c.req.method} ${c.req.path}: ${err.message}`,
          );
    const status = statusOf(e);
    if (status >= 500) log.warn({ code: e.code, path: c.req.path, err: err.message }, e.message);
    return c.json({ error: errorBody(e) }, status);
  });

  return app;
}

function errorBody(e: HastackError): { code: string; message: string; hint?: string } {
  return { code: e.code, message: e.message, ...(e.hint === undefined ? {} : { hint: e.hint }) };
}
