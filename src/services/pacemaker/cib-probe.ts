import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import {
  CIB_CONSTRAINTS_ARGV,
  CIB_PROPERTIES_ARGV,
  CIB_RESOURCES_ARGV,
  type CibView,
  CRM_VERIFY_ARGV,
  parseCibConstraints,
  parseCibProperties,
  parseCrmVerify,
  parseResourcePaths,
  renderedCibView,
  type VerifyResult,
} from "../../hostkit/pacemaker-cib.ts";
import type { Topology } from "../../topology/types.ts";
import type { ExecResult } from "../../transport/types.ts";
import { lastLine } from "../../util/text.ts";

/** Properties Pacemaker writes itself: never hastack's, never drift. */
const PACEMAKER_OWNED = new Set([
  "dc-version",
  "cluster-infrastructure",
  "have-watchdog",
  "last-lrm-refresh",
]);

/**
 * The live CIB as the seeds check it by hand (`crm_verify -L -V`), and compared with what
 * hastack renders, so a change made by hand (a constraint, `stonith-enabled=false`,
 * `maintenance-mode=true`) shows on the next status instead of at the next deploy.
 * `render` gives the CIB hastack would load; without it only crm_verify runs.
 */
export function cibProbe(topology: Topology, render?: () => string): ProbeSpec {
  return {
    id: "cib",
    title: "Live CIB valid and as hastack renders it",
    on: "once",
    weight: "redundant",
    timeoutMs: 20_000,
    run: (ctx) => probeCib(ctx, topology.roles.controller, render),
  };
}

async function probeCib(
  ctx: ProbeContext,
  controllers: string[],
  render?: () => string,
): Promise<ProbeResult> {
  const errors: string[] = [];
  for (const host of controllers) {
    const verify = await ctx.exec(host, CRM_VERIFY_ARGV).catch((e: Error) => e);
    if (verify instanceof Error) {
      errors.push(`${host}: ${lastLine(verify.message, 120)}`);
      continue;
    }
    const output = `${verify.stdout}\n${verify.stderr}`;
    // crm_verify that cannot reach the CIB says so and exits non-zero without any error line.
    if (verify.code !== 0 && !/error:/.test(output)) {
      errors.push(`${host}: crm_verify -L exit code ${verify.code}: ${lastLine(output, 120)}`);
      continue;
    }
    const verdict = parseCrmVerify({ name: host }, output, verify.code);
    const live = render ? await liveView(ctx, host) : undefined;
    if (typeof live === "string")
      return { state: "degraded", summary: `cannot read the live CIB on ${host}: ${live}` };
    const drift = render && live ? cibDrift(renderedCibView(render()), live) : undefined;
    return judgeCib(host, verdict, drift);
  }
  return { state: "down", summary: `no controller could check the live CIB (${errors.join("; ")})` };
}

/** The three scopes, or what failed. */
async function liveView(ctx: ProbeContext, host: string): Promise<CibView | string> {
  const runs = await Promise.all(
    [CIB_PROPERTIES_ARGV, CIB_CONSTRAINTS_ARGV, CIB_RESOURCES_ARGV].map((argv) => ctx.exec(host, argv)),
  );
  const [props, constraints, resources] = runs as [ExecResult, ExecResult, ExecResult];
  // Exit 105: no such object, i.e. no resources at all.
  for (const [r, argv] of [
    [props, CIB_PROPERTIES_ARGV],
    [constraints, CIB_CONSTRAINTS_ARGV],
    [resources, CIB_RESOURCES_ARGV],
  ] as const)
    if (r.code !== 0 && !(argv === CIB_RESOURCES_ARGV && r.code === 105))
      return `${argv.slice(0, 4).join(" ")} exit code ${r.code}: ${lastLine(r.stderr || r.stdout)}`;
  return {
    properties: parseCibProperties({ name: host }, props.stdout),
    constraints: parseCibConstraints({ name: host }, constraints.stdout),
    resources: resources.code === 105 ? [] : parseResourcePaths({ name: host }, resources.stdout),
  };
}

export interface CibDrift {
  properties: string[];
  constraints: string[];
  resources: string[];
}

/** Every difference, each one line an operator can act on. */
export function cibDrift(wanted: CibView, live: CibView): CibDrift {
  const properties: string[] = [];
  for (const [name, value] of wanted.properties) {
    const have = live.properties.get(name);
    if (have === undefined)
      properties.push(`property ${name} is unset on the live cluster (hastack sets ${value})`);
    else if (have !== value)
      properties.push(`property ${name}=${have} on the live cluster, hastack sets ${value}`);
  }
  for (const [name, value] of live.properties)
    if (!wanted.properties.has(name) && !PACEMAKER_OWNED.has(name))
      properties.push(`property ${name}=${value} set by hand (hastack does not set it)`);
  const constraints: string[] = [];
  const wantedById = new Map(wanted.constraints.map((c) => [c.id, c]));
  const liveById = new Map(live.constraints.map((c) => [c.id, c]));
  for (const c of live.constraints) {
    const w = wantedById.get(c.id);
    if (!w) constraints.push(`constraint ${c.id} (${c.kind}) added by hand`);
    else if (w.canonical !== c.canonical) constraints.push(`constraint ${c.id} (${c.kind}) changed by hand`);
  }
  for (const c of wanted.constraints)
    if (!liveById.has(c.id)) constraints.push(`constraint ${c.id} (${c.kind}) missing from the live cluster`);
  const liveIds = new Set(live.resources.map((r) => r.id));
  const wantedIds = new Set(wanted.resources.map((r) => r.id));
  const resources = [
    ...live.resources
      .filter((r) => !wantedIds.has(r.id))
      .map((r) => `resource ${r.id} (${r.kind}) added by hand`),
    ...wanted.resources
      .filter((r) => !liveIds.has(r.id))
      .map((r) => `resource ${r.id} (${r.kind}) missing from the live cluster`),
  ];
  return { properties, constraints, resources };
}

/** What the cluster's own verdict and the drift mean; exported for the tests over captured output. */
export function judgeCib(host: string, verify: VerifyResult, drift?: CibDrift): ProbeResult {
  const lines = drift ? [...drift.properties, ...drift.constraints, ...drift.resources] : [];
  const parts: string[] = [];
  if (!verify.valid)
    parts.push(
      `crm_verify -L finds the live CIB invalid (${verify.errors.join("; ") || "no reason given"}): Pacemaker may refuse or misapply changes`,
    );
  else
    parts.push(
      `crm_verify -L ok on ${host}${verify.warnings.length > 0 ? ` (${verify.warnings.length} warning(s))` : ""}`,
    );
  if (drift === undefined) parts.push("drift not compared (the site's services were not given)");
  else if (lines.length === 0) parts.push("no drift from what hastack renders");
  else
    parts.push(
      `drift from what hastack renders (the cluster runs otherwise than the inventory says): ${lines.join("; ")}`,
    );
  return {
    state: !verify.valid || lines.length > 0 ? "degraded" : "ok",
    summary: parts.join(", "),
    details: { verify, ...(drift ? { drift } : {}) },
  };
}
