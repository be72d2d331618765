import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeWorld, HOSTS, world } from "../engine-test-world.ts";
import type { Store } from "../store.ts";
import { startTestDb, type TestDb } from "../store-test-db.ts";
import { createHaMetrics } from "./metrics.ts";
import { type HaHttp, startHaHttp } from "./server.ts";
import type { HaSource } from "./source.ts";
import { parseScrape } from "./test-scrape.ts";

/**
 * The API served for real on 127.0.0.1 and fetched over HTTP; what it reports comes from a REAL
 * engine and receiver (engine-test-world.ts: fence, Nova, BMC and quorum are doubles there), and
 * the history from a REAL MariaDB the engine's history is written to (store-test-db.ts).
 */
let db: TestDb;
beforeAll(async () => {
  db = await startTestDb();
});
afterAll(() => db?.stop());

const servers: HaHttp[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeWorld();
});

const OTHERS = HOSTS.filter((h) => h !== "cmp1");
const log = { info: () => {}, warn: () => {} };

/** cmp1 died 10 s ago and was fenced and evacuated; the others beat. History in a fresh database. */
async function scene() {
  const { database } = await db.fresh();
  const store: Store = await db.open(db.options(database));
  const metrics = createHaMetrics();
  const w = await world({
    // As the daemon wires it: the engine writes to the store through the metrics collector.
    history: (inner) =>
      metrics.observeHistory({
        async record(e) {
          await inner.record(e);
          return store.record(e);
        },
        async upsertHost(s) {
          await inner.upsertHost(s);
          await store.upsertHost(s);
        },
        hosts: () => inner.hosts(),
      }),
  });
  await w.run(3, HOSTS);
  await w.run(10, OTHERS);
  expect(w.phase("cmp1")).toBe("evacuated");
  const source: HaSource = {
    states: () => w.engine.states(),
    heartbeats: () => w.receiver.hosts,
    now: w.now,
    wall: () => new Date(1_700_000_000_000 + w.now()),
    verifier: () => w.verifier.stats(),
    power: (host) => (host === "cmp1" ? "off" : undefined),
    leader: () => true,
    dryRun: false,
  };
  const http = await startHaHttp({ address: "127.0.0.1", port: 0, source, store, metrics, log });
  servers.push(http);
  const base = `http://127.0.0.1:${http.port}`;
  return { w, store, http, base, get: (path: string) => fetch(`${base}${path}`) };
}

describe("instance-ha/http: the engine's REST API and /metrics over real HTTP", () => {
  it("lists the hosts with their phase, heartbeat ages and power, and one host by name", async () => {
    const { get } = await scene();
    const res = await get("/v1/hosts");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { active: boolean; hosts: { host: string }[] };
    expect(body.active).toBe(true);
    expect(body.hosts.map((h) => h.host)).toEqual(HOSTS);

    const one = await (await get("/v1/hosts/cmp1")).json();
    expect(one).toMatchObject({
      host: "cmp1",
      phase: "evacuated",
      condition: "dead",
      power: "off",
      heartbeats: {
        management: { ageSeconds: 10, bootId: "boot-1", novaCompute: true, vms: 0 },
        storage: { ageSeconds: 10 },
      },
    });
    const cmp2 = await (await get("/v1/hosts/cmp2")).json();
    expect(cmp2).toMatchObject({ phase: "healthy", heartbeats: { management: { ageSeconds: 0 } } });
    expect(cmp2).not.toHaveProperty("power");
  });

  it("answers an unknown host with 404 naming the known ones, and a bad path or query as JSON errors", async () => {
    const { get } = await scene();
    const res = await get("/v1/hosts/cmp9");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      error: { code: "E_HA_API_HOST", message: "Cannot show cmp9: the engine neither watches nor hears it" },
      known: HOSTS,
    });
    const route = await get("/v1/nothing");
    expect(route.status).toBe(404);
    expect(await route.json()).toMatchObject({ error: { code: "E_HA_API_ROUTE" } });
    const query = await get("/v1/hosts?hots=cmp1");
    expect(query.status).toBe(400);
    expect(await query.json()).toMatchObject({
      error: { code: "E_HA_API_QUERY", message: "Cannot list the hosts: unknown parameter(s) hots" },
    });
  });

  it("serves /metrics in the text format: heartbeat ages, phases, packets, fences, durations", async () => {
    const { get, w } = await scene();
    w.verifier.verify(Buffer.from("not a heartbeat"), { network: "management", source: "127.0.0.1" });
    const res = await get("/metrics");
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const s = parseScrape(await res.text());
    expect(s.value("hastack_ha_heartbeat_age_seconds", { host: "cmp1", network: "management" })).toBe(10);
    expect(s.value("hastack_ha_heartbeat_age_seconds", { host: "cmp2", network: "storage" })).toBe(0);
    expect(s.value("hastack_ha_hosts", { phase: "evacuated" })).toBe(1);
    expect(s.value("hastack_ha_hosts", { phase: "healthy" })).toBe(3);
    expect(s.value("hastack_ha_hosts", { phase: "failed" })).toBe(0);
    expect(s.value("hastack_ha_engine_active")).toBe(1);
    expect(s.value("hastack_ha_dry_run")).toBe(0);
    // 3 rounds from 4 hosts and 10 from 3, over both networks.
    expect(s.value("hastack_ha_heartbeats_accepted_total")).toBe((3 * 4 + 10 * 3) * 2);
    expect(s.value("hastack_ha_heartbeats_dropped_total", { reason: "malformed" })).toBe(1);
    expect(s.value("hastack_ha_heartbeats_dropped_total", { reason: "forged" })).toBe(0);
    expect(s.value("hastack_ha_fences_total", { method: "power", outcome: "confirmed" })).toBe(1);
    expect(s.value("hastack_ha_evacuations_total", { outcome: "evacuated" })).toBe(1);
    expect(s.value("hastack_ha_detection_seconds_count")).toBe(1);
    expect(s.types.get("hastack_ha_evacuation_seconds")).toBe("histogram");
    expect(await (await get("/healthz")).json()).toEqual({ ok: true, active: true, dryRun: false });
  });

  it("reads the history from the database, filtered, newest `limit` oldest first", async () => {
    const { get } = await scene();
    const res = await get("/v1/history?host=cmp1&kind=phase&limit=3");
    expect(res.status).toBe(200);
    const { events } = (await res.json()) as { events: { phaseTo: string; at: string; engine: string }[] };
    expect(events.map((e) => e.phaseTo)).toEqual(["fenced", "evacuating", "evacuated"]);
    expect(events[0]?.engine).toBe("ctl1");
    const since = events[1]?.at ?? "";
    const later = (await (await get(`/v1/history?kind=phase&since=${since}`)).json()) as {
      events: { phaseTo: string }[];
    };
    expect(later.events.map((e) => e.phaseTo)).toEqual(["evacuating", "evacuated"]);
    const all = (await (await get("/v1/history")).json()) as { events: { kind: string }[] };
    expect(new Set(all.events.map((e) => e.kind))).toEqual(new Set(["phase", "gate", "fence", "evacuation"]));

    for (const [query, wording] of [
      ["kind=bogus", /^Cannot read the history: kind: /],
      ["hots=cmp1", /^Cannot read the history: unknown parameter\(s\) hots$/],
      ["limit=0", /^Cannot read the history: limit: Too small/],
      ["limit=5000", /^Cannot read the history: limit: Too big/],
      ["limit=ten", /^Cannot read the history: limit: not a whole number/],
      ["host=a%20b", /^Cannot read the history: host: not a host name/],
      ["since=yesterday", /^Cannot read the history: since: /],
    ] as const) {
      const bad = await get(`/v1/history?${query}`);
      expect(bad.status, query).toBe(400);
      const { error } = (await bad.json()) as { error: { code: string; message: string } };
      expect(error.code, query).toBe("E_HA_API_QUERY");
      expect(error.message, query).toMatch(wording);
    }
  });

  it("answers 503 with the store's code when the database is gone, and refuses a port in use", async () => {
    const { get, store, http, w } = await scene();
    await store.close();
    const res = await get("/v1/history");
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: { code: string } };
    expect(error.code).toMatch(/^E_HA_STORE_/);

    const source = {
      states: () => new Map(),
      heartbeats: () => new Map(),
      now: w.now,
      leader: () => false,
      dryRun: true,
    };
    const taken = startHaHttp({
      address: "127.0.0.1",
      port: http.port,
      source,
      store,
      metrics: createHaMetrics(),
      log,
    });
    await expect(taken).rejects.toMatchObject({
      code: "E_HA_API_BIND",
      message: expect.stringMatching(
        new RegExp(`^Cannot listen for the instance-HA API on 127.0.0.1:${http.port}: .*EADDRINUSE`),
      ),
    });
  });
});
