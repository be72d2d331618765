import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { MEMCACHED_PORT } from "./settings.ts";

/** `version` over the management address, the way clients reach it. */
async function answers(ctx: StepContext): Promise<true | string> {
  const script = `exec 3<>/dev/tcp/${ctx.host.ip}/${MEMCACHED_PORT} && printf 'version\\r\\n' >&3 && timeout 2 head -1 <&3`;
  const r = await ctx.transport.exec(["bash", "-c", script], { timeoutMs: 10_000 });
  return r.stdout.startsWith("VERSION")
    ? true
    : `no answer on ${ctx.host.ip}:${MEMCACHED_PORT}: ${r.stderr.trim()}`;
}

const start: StepSpec = {
  id: "start",
  title: "Enable and start memcached; check it answers on the management address",
  on: "each",
  after: ["files"],
  async check(ctx) {
    return (
      (await ctx.test(["systemctl", "is-enabled", "--quiet", "memcached"])) &&
      (await ctx.test(["systemctl", "is-active", "--quiet", "memcached"])) &&
      (await answers(ctx)) === true
    );
  },
  async apply(ctx) {
    await ctx.run(["systemctl", "enable", "--now", "memcached"]);
    await waitUntil(ctx, "reach memcached", () => answers(ctx), { timeoutMs: 30_000 });
  },
};

export function memcachedSteps(): StepSpec[] {
  return [{ id: "files", title: "Write memcached.conf (restart where it runs)", on: "each" }, start];
}
