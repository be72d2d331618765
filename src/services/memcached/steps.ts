import { allRunning, systemctl } from "../../hostkit/systemd.ts";
import { tcpExchange } from "../../hostkit/tcp.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { MEMCACHED_PORT } from "./settings.ts";

/** `version` over the management address, the way clients reach it. */
async function answers(ctx: StepContext): Promise<true | string> {
  const r = await tcpExchange(ctx.transport, ctx.host.ip, MEMCACHED_PORT, "version\r\nquit\r\n");
  return r.reply.startsWith("VERSION")
    ? true
    : `no answer on ${ctx.host.ip}:${MEMCACHED_PORT}: ${r.error || r.reply.trim() || "nothing"}`;
}

const start: StepSpec = {
  id: "start",
  title: "Enable and start memcached; check it answers on the management address",
  on: "each",
  after: ["files"],
  async check(ctx) {
    return (await allRunning(ctx.transport, ["memcached"])) && (await answers(ctx)) === true;
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "enable", ["memcached"], { now: true, signal: ctx.signal });
    await waitUntil(ctx, "reach memcached", () => answers(ctx), { timeoutMs: 30_000 });
  },
};

export function memcachedSteps(): StepSpec[] {
  return [{ id: "files", title: "Write memcached.conf (restart where it runs)", on: "each" }, start];
}
