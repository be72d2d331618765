/**
 * @module
 * The active engine killed in the middle of an evacuation (issue #10 item 8): SIGKILL to its
 * process on the controller Pacemaker runs it on, and that controller banned for it, so a
 * standby on another controller must take over, resume the host's evacuation from the history in
 * Galera, and finish it without evacuating any VM a second time. `undo` lifts the ban.
 */
import type { Transport } from "../../transport/types.ts";

export interface EngineKill {
  /** The controller whose engine was killed. */
  node: string;
  undo(): Promise<void>;
}

export async function killActiveEngine(
  transport: (host: string) => Transport,
  controllers: readonly string[],
  resource: string,
): Promise<EngineKill> {
  const node = await locate(transport, controllers, resource);
  const t = transport(node);
  const killed = await t.exec(["systemctl", "kill", "--signal=SIGKILL", resource]);
  if (killed.code !== 0)
    throw new Error(`Cannot kill ${resource} on ${node}: exit code ${killed.code}: ${killed.stderr.trim()}`);
  const ban = await t.exec(["crm_resource", "--ban", "--resource", resource, "--node", node]);
  if (ban.code !== 0)
    throw new Error(`Cannot ban ${resource} from ${node}: exit code ${ban.code}: ${ban.stderr.trim()}`);
  return {
    node,
    async undo() {
      const cleared = await transport(controllers.find((c) => c !== node) ?? node).exec([
        ...["crm_resource", "--clear", "--resource", resource],
      ]);
      if (cleared.code !== 0)
        throw new Error(
          `Cannot clear the ban of ${resource}: exit code ${cleared.code}: ${cleared.stderr.trim()}`,
        );
    },
  };
}

/** The controller Pacemaker runs the resource on, asked of the first controller that answers. */
async function locate(
  transport: (host: string) => Transport,
  controllers: readonly string[],
  resource: string,
): Promise<string> {
  for (const c of controllers) {
    const r = await transport(c)
      .exec(["crm_resource", "--locate", "--resource", resource], { timeoutMs: 20_000 })
      .catch(() => undefined);
    const node = r ? /is running on: (\S+)/.exec(r.stdout)?.[1] : undefined;
    if (node) return node;
  }
  throw new Error(`Cannot find where ${resource} runs: no controller of ${controllers.join(", ")} said`);
}
