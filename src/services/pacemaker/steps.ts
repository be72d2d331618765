import { type CrmMon, parseCrmMon } from "../../hostkit/crm-mon.ts";
import { bmcEndpoint, fenceIpmilanParams } from "../../hostkit/ipmi.ts";
import { enabledOf, inactiveOf, systemctl, unitExists } from "../../hostkit/systemd.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLine } from "../../util/text.ts";
import { controllers } from "../hosts.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { cibDiff, loadCib } from "./cib-load.ts";
import { pacemakerSettings } from "./settings.ts";

const STACK = ["corosync", "pacemaker"];

async function facts(ctx: StepContext): Promise<CrmMon> {
  const r = await ctx.run(["crm_mon", "--output-as=xml", "--one-shot", "--inactive"], { timeoutMs: 20_000 });
  return parseCrmMon(ctx.transport, r.stdout);
}

/** Salt of a `$6$salt$hash` shadow entry, or undefined for locked or other hash kinds. */
async function shadowHash(ctx: StepContext): Promise<string | undefined> {
  const r = await ctx.run(["getent", "shadow", "hacluster"]);
  const hash = r.stdout.split(":")[1] ?? "";
  return hash.startsWith("$6$") ? hash : undefined;
}

/**
 * SHA-512 crypt rather than Debian's default yescrypt: `openssl passwd -6` can recompute it from
 * the salt with the password on stdin, so the check needs no state of its own.
 */
const hacluster: StepSpec = {
  id: "hacluster-password",
  title: "Set the hacluster password",
  on: "each",
  async check(ctx) {
    const hash = await shadowHash(ctx);
    if (!hash) return false;
    const salt = hash.split("$")[2] ?? "";
    const r = await ctx.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"], {
      stdin: `${ctx.secret("hacluster_password")}\n`,
    });
    return r.stdout.trim() === hash;
  },
  async apply(ctx) {
    await ctx.run(["chpasswd", "-c", "SHA512"], { stdin: `hacluster:${ctx.secret("hacluster_password")}\n` });
  },
};

/**
 * Not started at boot. A node that was fenced (rebooted) must not rejoin on its own: whatever made
 * it misbehave is still there, and a fence loop (rejoin, fail, get shot) is worse than a node
 * that waits for an operator (E19). The drills' restore and `hastack deploy` start it explicitly.
 */
const units: StepSpec = {
  id: "units",
  title: "Keep corosync/pacemaker off at boot (E19); start them now",
  on: "each",
  after: ["files", "hacluster-password"],
  async check(ctx) {
    return (
      (await enabledOf(ctx.transport, STACK)).length === 0 &&
      (await inactiveOf(ctx.transport, STACK)).length === 0
    );
  },
  async apply(ctx) {
    await ctx.run(["corosync", "-t"]);
    const on = await enabledOf(ctx.transport, STACK);
    if (on.length > 0) await systemctl(ctx.transport, "disable", on);
    await systemctl(ctx.transport, "start", STACK, { timeoutMs: 120_000, signal: ctx.signal });
  },
};

/**
 * true once every controller is online in a quorate cluster, else why not. Seconds after the
 * units start, crm_mon may not reach the CIB yet (a non-zero exit) or answer without a DC and
 * cluster options (measured on the lab, 2026-12-03): a cluster still forming, said and waited
 * on, not an error that ends the deploy. The wait's timeout still fails with the last reason.
 */
export async function formed(ctx: StepContext): Promise<true | string> {
  const want = controllers(ctx.topology).map((h) => h.name);
  const r = await ctx.transport.exec(["crm_mon", "--output-as=xml", "--one-shot", "--inactive"], {
    timeoutMs: 20_000,
    signal: ctx.signal,
  });
  if (r.code !== 0) return `crm_mon exit code ${r.code}: ${lastLine(r.stderr || r.stdout)}`;
  try {
    return membership(parseCrmMon(ctx.transport, r.stdout), want);
  } catch (error) {
    if (error instanceof HastackError && error.code === "E_TOOL_OUTPUT")
      return `the cluster is still forming: ${error.message}`;
    throw error;
  }
}

function membership(f: CrmMon, want: string[]): true | string {
  const online = f.nodes.filter((n) => n.state === "online").map((n) => n.name);
  const missing = want.filter((h) => !online.includes(h));
  if (!f.quorum) return `no quorum (online: ${online.join(", ") || "none"})`;
  if (!f.dc) return "no DC elected yet";
  return missing.length === 0 ? true : `not online yet: ${missing.join(", ")}`;
}

const quorum: StepSpec = {
  id: "quorum",
  title: "Wait until every controller is online and the cluster is quorate",
  on: "bootstrap",
  after: ["units"],
  async check(ctx) {
    const state = await formed(ctx);
    if (state !== true) ctx.log.info(state);
    return state === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "form the Pacemaker cluster", () => formed(ctx), { timeoutMs: 180_000 });
  },
};

/**
 * Resources go into the CIB only once their units exist: after every step the services'
 * contributions name (`haproxy.unit`...), and a systemd resource whose unit is missing on the
 * host stops the load with the resource and unit named instead of a failed start in Pacemaker.
 */
const cib = (contributions: readonly string[]): StepSpec => ({
  id: "cib",
  title:
    "Load properties, fencing and the services' resources into the CIB (crm_verify first; only what differs)",
  on: "bootstrap",
  after: ["quorum", ...contributions],
  async check(ctx) {
    const d = await cibDiff(ctx);
    if (ctx.dryRun && (d.properties.length > 0 || d.scopes.length > 0))
      ctx.log.info(`would load ${[...d.properties.map(([n]) => n), ...d.scopes].join(", ")}`);
    return d.properties.length === 0 && d.scopes.length === 0;
  },
  async apply(ctx) {
    const diff = await cibDiff(ctx);
    await requireUnits(ctx, diff.wanted);
    await loadCib(ctx, diff);
  },
});

async function requireUnits(ctx: StepContext, cibXml: string): Promise<void> {
  for (const m of cibXml.matchAll(/<primitive\b[^>]*>/g)) {
    const tag = m[0];
    if (!/\bclass="systemd"/.test(tag)) continue;
    const id = /\bid="([^"]*)"/.exec(tag)?.[1] ?? "?";
    const unit = /\btype="([^"]*)"/.exec(tag)?.[1] ?? "";
    if (await unitExists(ctx.transport, `${unit}.service`)) continue;
    throw new HastackError(
      "E_CIB_UNIT_MISSING",
      `Cannot load resource ${id} into the CIB on ${ctx.host.name}: its unit ${unit}.service does not exist there`,
      {
        hint: "the step that installs it must come first: name it in the service's pacemaker contribution `after`",
      },
    );
  }
}

function allStarted(f: CrmMon): true | string {
  const bad = f.resources.filter((r) => r.failed || r.nodes.length === 0 || r.role !== "Started");
  if (f.resources.length === 0) return "no resources in the CIB";
  if (bad.length > 0)
    return `not started: ${bad.map((r) => `${r.id} (${r.failed ? "FAILED" : r.role})`).join(", ")}`;
  if (f.failures.length > 0)
    return `failed actions: ${f.failures.map((x) => `${x.op} on ${x.node} ${x.exitReason}`).join("; ")}`;
  return true;
}

const started: StepSpec = {
  id: "started",
  title: "Wait until every resource (fence devices, HAProxy, VIPs) is started, no failed actions",
  on: "bootstrap",
  after: ["cib"],
  async check(ctx) {
    return allStarted(await facts(ctx)) === true;
  },
  async apply(ctx) {
    // Failed actions of an earlier run (a fence device that once timed out) keep status degraded:
    // clear them once, then wait for the cluster to settle.
    if ((await facts(ctx)).failures.length > 0) await ctx.run(["crm_resource", "--cleanup"]);
    await waitUntil(ctx, "start the cluster resources", async () => allStarted(await facts(ctx)), {
      timeoutMs: 180_000,
      intervalMs: 2000,
    });
  },
};

/**
 * A status request to every controller's BMC with the same parameters the fence devices carry,
 * given to fence_ipmilan on stdin (its documented way of taking options) so no password is in argv.
 */
const fenceCheck: StepSpec = {
  id: "fence-check",
  title: "Check every controller's BMC answers fence_ipmilan (status)",
  on: "bootstrap",
  after: ["started"],
  async check(ctx) {
    if (!pacemakerSettings(ctx.topology).fencing) return true;
    for (const host of controllers(ctx.topology)) {
      if (!host.bmc) continue;
      const params = fenceIpmilanParams(bmcEndpoint(host.bmc), ctx.secret(host.bmc.password_secret));
      const stdin = [...Object.entries(params).map(([k, v]) => `${k}=${v}`), "action=status", ""].join("\n");
      const r = await ctx.transport.exec(["fence_ipmilan"], { stdin, timeoutMs: 60_000 });
      if (r.code !== 0 || !/Status: ON/i.test(r.stdout)) {
        throw new HastackError(
          "E_FENCE_CHECK",
          `Cannot reach the BMC of ${host.name} (${host.bmc.address}) from ${ctx.host.name} with fence_ipmilan: exit code ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`,
        );
      }
    }
    return true;
  },
};

export function pacemakerSteps(contributions: readonly string[]): StepSpec[] {
  return [
    { id: "files", title: "Write corosync.conf, the authkey and the CIB file", on: "each" },
    hacluster,
    units,
    quorum,
    cib(contributions),
    started,
    fenceCheck,
  ];
}
