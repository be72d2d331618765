/**
 * @module
 * controller-poweroff-under-load (issue 9): the public VIP's holder is powered off while tenants use the
 * cloud (api-load.ts: a token and a list from each API, servers created and deleted). Each API's
 * downtime and error count is reported; a server that ends in ERROR, or never leaves BUILD, fails
 * the drill. The SQL probe of the runner still measures the database through the VIP.
 */
import { TLS_SECRETS } from "../../inventory/site-tls.ts";
import { haproxySettings } from "../../services/haproxy/settings.ts";
import { KEYSTONE_DEMO_SECRET } from "../../services/keystone/openrc.ts";
import { HastackError } from "../../util/errors.ts";
import { type ApiLoad, type ApiLoadResult, startApiLoad } from "./api-load.ts";
import { holderOf, powerBack } from "./host-ops.ts";
import type { DrillContext, DrillDef, DrillFinding, Injected } from "./types.ts";

/** The guest image and flavor `hastack lab guest-image` puts in the cloud. */
const SERVER = { image: "hastack-guest", flavor: "hastack.tiny" };

let load: ApiLoad | undefined;
let result: ApiLoadResult | undefined;

export const underLoad: DrillDef = {
  id: "controller-poweroff-under-load",
  title: "Hard power-off of the VIP holder while tenants use every API and create servers",
  probe: "sql-read",
  // The target holds the public VIP; SQL goes through the internal VIP, which may be elsewhere
  // (run 5 on the lab: 0 of 2359 SQL probes failed, and the runner waited 120 s for a failure).
  // The APIs' own downtimes (facts.downtimes) are what this drill measures.
  outage: false,
  // The VIP's move, then HAProxy marking the dead controller's backends down (fall + 1 checks).
  goalMs: (t) => 5000 + (haproxySettings(t).check.fall + 1) * haproxySettings(t).check.inter_ms,
  async prepare(ctx) {
    load = await startApiLoad(credentials(ctx), SERVER);
    ctx.log("API load running (a token and a list from each API every 0.5-1 s, servers created and deleted)");
    // Ten seconds of load before the fault: a server in flight when it lands.
    await new Promise((r) => setTimeout(r, 10_000));
  },
  async inject(ctx): Promise<Injected> {
    const running = load;
    if (!running)
      throw new HastackError("E_DRILL_INJECT", "Cannot power off under load: the API load did not start");
    let target: string;
    let faultAt: number;
    try {
      // The tenants' VIP: the public one (the internal VIP may be on another controller).
      target = await holderOf(ctx, ctx.topology.vips.public);
      running.markFault();
      faultAt = Date.now();
      await ctx.injector.powerOff(target);
    } catch (error) {
      // No fault, so no restore or verify: the load's loops would keep this process alive.
      load = undefined;
      await running.stop();
      throw error;
    }
    return {
      target,
      action: `powered off ${target} (the public VIP's holder) through its BMC under API load`,
      restore: async () => {
        // The failover is measured until every API is back (or 3 minutes), before the controller
        // returns: on the lab its ~25 services starting take the CPU of all three controllers
        // (2 cores in all), which a real site's separate machines would not share.
        try {
          await running.waitRecovered(180_000);
          result = await running.stop();
        } finally {
          // Whatever the load did, the controller comes back.
          load = undefined;
          await powerBack(ctx, target, faultAt);
        }
      },
    };
  },
  async verify(ctx, _injected, facts) {
    if (!result) return [{ severity: "failed", message: "the API load never finished" }];
    const measured = result;
    result = undefined;
    facts.downtimes = measured.apis.map((a) => ({ label: `${a.api} API`, ms: a.downtimeMs }));
    report(ctx, measured);
    return findings(measured);
  },
};

function credentials(ctx: DrillContext) {
  const authUrl = ctx.topology.endpoints.keystone?.public;
  const password = ctx.secrets[KEYSTONE_DEMO_SECRET];
  if (!authUrl || !password)
    throw new HastackError(
      "E_DRILL_PRECONDITION",
      "Cannot load the APIs: no Keystone endpoint or no demo password",
      {
        hint: "deploy Keystone first (hastack secrets init, hastack deploy)",
      },
    );
  const ca = ctx.topology.tls.public !== "off" ? ctx.secrets[TLS_SECRETS.caCert] : undefined;
  return { authUrl, username: "demo", project: "demo", password, ...(ca ? { ca } : {}) };
}

function report(ctx: DrillContext, result: ApiLoadResult): void {
  for (const a of result.apis) {
    ctx.timing(`${a.api} API down (${a.errors} of ${a.requests} requests failed)`, a.downtimeMs);
    for (const e of a.firstErrors) ctx.log(`${a.api}: ${e}`);
  }
  const done = result.cycles.filter((c) => c.outcome === "deleted").length;
  ctx.log(`servers: ${result.cycles.length} asked for, ${done} ACTIVE then deleted`);
  for (const c of result.cycles.filter((c) => c.outcome !== "deleted"))
    ctx.log(`server ${c.name}: ${c.outcome}: ${c.detail}`);
}

export function findings(result: ApiLoadResult): DrillFinding[] {
  const out: DrillFinding[] = [];
  for (const c of result.cycles) {
    if (c.outcome === "error")
      out.push({ severity: "failed", message: `server ${c.name} ended in ERROR (${c.detail})` });
    if (c.outcome === "stuck")
      out.push({ severity: "failed", message: `server ${c.name} never became ACTIVE (${c.detail})` });
  }
  if (!result.cycles.some((c) => c.outcome === "deleted"))
    out.push({
      severity: "failed",
      message: "no server was created, became ACTIVE and was deleted during the drill",
    });
  for (const a of result.apis)
    if (a.requests === 0)
      out.push({ severity: "failed", message: `no request to the ${a.api} API finished` });
  return out;
}
