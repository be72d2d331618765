import { showInfo } from "../../hostkit/haproxy-runtime.ts";
import { allRunning, isEnabled, systemctl } from "../../hostkit/systemd.ts";
import { HastackError } from "../../util/errors.ts";
import { controllers } from "../hosts.ts";
import { validateBeforeWrite, waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { vipHolders } from "../vip/index.ts";
import { PUBLIC_PEM } from "./config.ts";
import { vipList } from "./vips.ts";

/**
 * `haproxy -c` on the new config before the files step writes it (and the restart step reloads
 * HAProxy with it): a config HAProxy rejects never reaches /etc/haproxy/haproxy.cfg.
 */
const validate = validateBeforeWrite(
  {
    id: "validate",
    title: "Check the new haproxy.cfg with haproxy -c before it replaces the old one",
    on: "each",
  },
  "/etc/haproxy/haproxy.cfg",
  (candidate) => ["haproxy", "-c", "-q", "-f", candidate],
  // A certificate the new config names may not be on the host yet (TLS just turned on).
  (ctx) => (ctx.topology.tls.public === "off" ? [] : [PUBLIC_PEM]),
);

/**
 * With Pacemaker managing the VIPs, HAProxy is a cloned resource: systemd must not start it at
 * boot (the cluster does, and only where it decides). With keepalived, systemd runs it.
 */
const unit: StepSpec = {
  id: "unit",
  title: "haproxy.service: off at boot under Pacemaker, enabled and running under keepalived",
  on: "each",
  after: ["files"],
  async check(ctx) {
    if (ctx.topology.vipManager === "pacemaker") return !(await isEnabled(ctx.transport, "haproxy"));
    return allRunning(ctx.transport, ["haproxy"]);
  },
  async apply(ctx) {
    if (ctx.topology.vipManager === "pacemaker") {
      if (await isEnabled(ctx.transport, "haproxy")) await systemctl(ctx.transport, "disable", ["haproxy"]);
      return;
    }
    await systemctl(ctx.transport, "enable", ["haproxy"], { now: true, signal: ctx.signal });
  },
};

export async function vipState(ctx: StepContext): Promise<true | string> {
  const names = controllers(ctx.topology).map((h) => h.name);
  const run = (host: string, argv: string[]) => ctx.peer(host).exec(argv, { timeoutMs: 10_000 });
  const problems: string[] = [];
  for (const v of vipList(ctx.topology)) {
    const holders = await vipHolders(run, names, v.ip);
    if (holders.length !== 1) {
      problems.push(`${v.ip} held by ${holders.length === 0 ? "nobody" : holders.join(" and ")}`);
      continue;
    }
    // The holder's HAProxy answers on its stats socket (HAProxy, not only the address, is up).
    const answers = await showInfo(ctx.peer(holders[0] as string)).then(
      () => true,
      () => false,
    );
    if (!answers) problems.push(`HAProxy on ${holders[0]} does not answer`);
  }
  return problems.length === 0 ? true : problems.join("; ");
}

const vipUp: StepSpec = {
  id: "vip-up",
  title: "Wait until each VIP is on exactly one controller, with HAProxy answering there",
  on: "bootstrap",
  after: ["pacemaker.started"],
  async check(ctx) {
    return (await vipState(ctx)) === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "bring up the VIPs", () => vipState(ctx), { timeoutMs: 90_000 });
  },
};

export function haproxySteps(vipManager: string): StepSpec[] {
  if (vipManager !== "pacemaker" && vipManager !== "keepalived")
    throw new HastackError("E_VIP_MANAGER", `Cannot deploy HAProxy: unknown vip_manager ${vipManager}`);
  return [
    validate,
    { id: "files", title: "Write haproxy.cfg (reload where it runs)", on: "each", after: ["validate"] },
    unit,
    // Under keepalived, keepalived's own start step waits for the VIPs (it comes after HAProxy).
    ...(vipManager === "pacemaker" ? [vipUp] : []),
  ];
}
