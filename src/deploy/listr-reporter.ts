/**
 * @module
 * The live view for a terminal: one line per host, its steps under it as they run. listr2 wants
 * tasks that do the work; here each task only waits for the runner's events, so listr2 stays a
 * view and the engine never depends on it.
 */
import type { Writable } from "node:stream";
import { Listr, type ListrTaskWrapper } from "listr2";
import { type DeployEvent, formatCounts, type NodeStatus, type PlannedNode } from "./events.ts";
import type { Reporter } from "./reporter.ts";

interface Slot {
  node: PlannedNode;
  done: Promise<{ status: NodeStatus; message?: string }>;
  finish(o: { status: NodeStatus; message?: string }): void;
  // biome-ignore lint/suspicious/noExplicitAny: listr2's task wrapper generics are not worth spelling out here
  task?: ListrTaskWrapper<any, any, any>;
}

export function listrReporter(out: Writable = process.stdout): Reporter {
  const slots = new Map<string, Slot>();
  const diffs: string[] = [];
  const failures: string[] = [];
  let run: Promise<unknown> | undefined;
  let summary = "";
  let dryRun = false;

  const start = (nodes: PlannedNode[]) => {
    const byHost = new Map<string, Slot[]>();
    for (const node of nodes) {
      let finish!: Slot["finish"];
      const done = new Promise<{ status: NodeStatus; message?: string }>((r) => {
        finish = r;
      });
      const slot: Slot = { node, done, finish };
      slots.set(node.key, slot);
      byHost.set(node.host, [...(byHost.get(node.host) ?? []), slot]);
    }
    const listr = new Listr(
      [...byHost].map(([host, list]) => ({
        title: host,
        task: (_ctx, hostTask) =>
          hostTask.newListr(
            list.map((slot) => ({
              title: `${slot.node.step} (waiting)`,
              task: async (_c, task) => {
                slot.task = task;
                const o = await slot.done;
                const label = o.status === "would-change" ? "would change" : o.status;
                task.title = `${slot.node.step}: ${label}`;
                if (o.status === "blocked") task.skip(`${slot.node.step}: blocked (${o.message ?? ""})`);
                if (o.status === "failed") throw new Error(o.message ?? "failed");
              },
            })),
            { concurrent: false, exitOnError: false },
          ),
      })),
      {
        concurrent: true,
        exitOnError: false,
        renderer: "default",
        fallbackRenderer: "simple",
        rendererOptions: { collapseErrors: false, showErrorMessage: true },
      },
    );
    run = listr.run().catch(() => undefined);
  };

  let declared: string[] = [];
  return {
    emit(e: DeployEvent) {
      switch (e.type) {
        case "run-start":
          dryRun = e.dryRun;
          if (e.notImplemented?.length) declared = e.notImplemented;
          start(e.nodes);
          break;
        case "step-start": {
          const slot = slots.get(e.key);
          if (slot?.task) slot.task.title = `${e.step}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}`;
          break;
        }
        case "note": {
          const slot = slots.get(`${e.step}@${e.host}`);
          if (slot?.task) slot.task.output = e.text;
          break;
        }
        case "step-end":
          if (e.status === "failed" && e.message) failures.push(e.message);
          slots.get(e.key)?.finish({ status: e.status, ...(e.message ? { message: e.message } : {}) });
          break;
        case "file-diff":
          diffs.push(`${e.host}: ${e.path}\n${e.diff.trimEnd()}`);
          break;
        case "run-end":
          summary = formatCounts(e.counts, dryRun);
          break;
        default:
          break;
      }
    },
    async close() {
      // Anything the runner never reached (should not happen) must not hang the view.
      for (const slot of slots.values()) slot.finish({ status: "blocked", message: "not run" });
      await run;
      if (diffs.length > 0) out.write(`\n${diffs.join("\n\n")}\n`);
      if (failures.length > 0) out.write(`\nFailed:\n${failures.map((f) => `  ${f}`).join("\n")}\n`);
      if (summary) out.write(`\n${summary}\n`);
      if (declared.length > 0)
        out.write(`not implemented (declared only, nothing deployed): ${declared.join(", ")}\n`);
    },
  };
}
