/**
 * @module
 * A compute drill's end: the fault undone, every host it touched back and enabled, and no VM of
 * the drill running twice.
 */
import { z } from "zod";
import { guestAnswers, runningDomains, waitFor } from "./guests.ts";
import { secondsBetween } from "./report.ts";
import type { DrillDeps, DrillOptions, Watch } from "./types.ts";

const ServiceRow = z.looseObject({ Status: z.string(), State: z.string() });

/**
 * The fault undone: each host it touched answering SSH, its nova-compute up and enabled (by the
 * engine, or held disabled by it on purpose: a host that fails again within the re-flap window
 * stays disabled, a drill repeated within the hour meets this, and the drill then enables it in
 * Nova itself, as the operator would, to leave the site as found; the engine sees that and
 * watches the host again). No VM may then run twice.
 */
export async function restoreHost(
  deps: DrillDeps,
  o: DrillOptions,
  w: Pick<Watch, "tag" | "vms" | "note" | "problems"> & { networkId: string },
): Promise<{ reenabledS?: number; heldDisabled?: boolean; leftovers?: number }> {
  const { admin, fault } = deps;
  const on = new Date();
  await fault.restore(o.host);
  const result: { reenabledS?: number; heldDisabled: boolean; leftovers?: number } = { heldDisabled: false };
  for (const host of fault.hosts(o.host)) {
    const held = await backAndEnabled(deps, host, on);
    if (held) {
      result.heldDisabled = true;
      w.note(
        `${host} back, held disabled by the engine (it failed again within the re-flap window): enabling it`,
      );
      await admin.run(["compute", "service", "set", "--enable", host, "nova-compute"]);
    }
  }
  if (!result.heldDisabled) result.reenabledS = secondsBetween(on, new Date());

  const ids = new Set(w.vms.map((v) => v.id));
  const { expect } = fault;
  if (expect.evacuate) {
    // Every domain left on the failed host would be a VM running twice; but for those left
    // there for want of room (compute-capacity-short), which must run nowhere else.
    const listed = await deps
      .transport(o.host)
      .exec(["virsh", "-c", "qemu:///system", "list", "--all", "--uuid"], { timeoutMs: 20_000 });
    if (listed.code !== 0)
      throw new Error(
        `Cannot list the domains on ${o.host}: exit code ${listed.code}: ${listed.stderr.trim()}`,
      );
    const stays = new Set(w.vms.filter((v) => v.stays).map((v) => v.id));
    const domains = listed.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    result.leftovers = domains.filter((u) => !stays.has(u)).length;
    if (result.leftovers !== 0)
      w.problems.push(`${result.leftovers} domain(s) left on ${o.host} after it came back`);
    for (const compute of deps.computes.filter((c) => c !== o.host)) {
      const twice = (await runningDomains(deps, compute)).filter((u) => stays.has(u));
      if (twice.length > 0) w.problems.push(`${twice.length} VM(s) left for want of room run on ${compute}`);
    }
    return result;
  }
  // The VMs stayed. After a cut they still run and answer where they were; after a power loss
  // they are off until someone starts them. Either way none may run on another compute.
  if (expect.hold === "alert")
    for (const vm of w.vms)
      if (!(await guestAnswers(deps, vm, o.host, w.networkId)))
        w.problems.push(`${vm.name} does not answer on ${o.host} after the network was healed`);
  result.leftovers = 0;
  for (const compute of deps.computes) {
    const running = (await runningDomains(deps, compute)).filter((u) => ids.has(u));
    if (compute !== o.host) {
      result.leftovers += running.length;
      if (running.length > 0)
        w.problems.push(`${running.length} of the drill's VMs run on ${compute}, not ${o.host}`);
    } else if (expect.hold === "alert" && running.length !== ids.size)
      w.problems.push(`${running.length} of the drill's ${ids.size} VMs run on ${o.host} after the heal`);
  }
  w.note(`restored: no VM of the drill runs on any compute but ${o.host}`);
  return result;
}

/** The host answers SSH, and its nova-compute is enabled and up; true: held disabled by the engine instead. */
async function backAndEnabled(deps: DrillDeps, host: string, since: Date): Promise<boolean> {
  await waitFor(`${host} answering again`, 240_000, async () =>
    deps
      .transport(host)
      .exec(["true"], { timeoutMs: 5000 })
      .then(
        (r) => r.code === 0,
        () => false,
      ),
  );
  let held = false;
  await waitFor(
    `nova-compute on ${host} enabled and up (or held disabled by the engine)`,
    300_000,
    async () => {
      const rows = await deps.admin.json(
        ["compute", "service", "list", "--service", "nova-compute", "--host", host],
        z.array(ServiceRow),
      );
      if (rows.length > 0 && rows.every((r) => r.Status === "enabled" && r.State === "up")) return true;
      held = (await deps.history(host, new Date(since.getTime() - 1000)).catch(() => [])).some(
        (e) => e.kind === "operator" && /left disabled/.test(e.detail),
      );
      return held;
    },
  );
  return held;
}
