import { allRunning, systemctl } from "../../hostkit/systemd.ts";
import { vipState } from "../haproxy/steps.ts";
import { validateBeforeWrite, waitUntil } from "../step-kit.ts";
import type { StepSpec } from "../types.ts";

const validate = validateBeforeWrite(
  { id: "validate", title: "Check the new keepalived.conf with keepalived -t", on: "each" },
  "/etc/keepalived/keepalived.conf",
  (candidate) => ["keepalived", "-t", "-f", candidate],
);

const start: StepSpec = {
  id: "start",
  title: "Enable and start keepalived",
  on: "each",
  after: ["files"],
  async check(ctx) {
    return allRunning(ctx.transport, ["keepalived"]);
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "enable", ["keepalived"], { now: true, signal: ctx.signal });
  },
};

const vips: StepSpec = {
  id: "vip-up",
  title: "Wait until each VIP is on exactly one controller, with HAProxy answering there",
  on: "bootstrap",
  after: ["start"],
  async check(ctx) {
    return (await vipState(ctx)) === true;
  },
  async apply(ctx) {
    await waitUntil(ctx, "bring up the VIPs with keepalived", () => vipState(ctx), { timeoutMs: 60_000 });
  },
};

export function keepalivedSteps(): StepSpec[] {
  return [
    validate,
    { id: "files", title: "Write keepalived.conf (reload where it runs)", on: "each", after: ["validate"] },
    start,
    vips,
  ];
}
