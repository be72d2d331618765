/**
 * @module
 * The step that puts the pinned Node on hosts: NODE_ROOT/<version>/bin/node, copied only when
 * its sha256 differs from the deploying machine's, and NODE_CURRENT pointing at it. One step for
 * every program of a host (the agent on computes, the engine on controllers): a service includes
 * it once, with the union of its programs' hosts, so two programs on a host never both copy it.
 */
import { readFile } from "node:fs/promises";
import { HastackError } from "../../../util/errors.ts";
import type { StepContext, StepSpec } from "../../types.ts";
import { NODE_CURRENT, NODE_ROOT, nodeBinOf, pinnedNode } from "./pinned-node.ts";

/** The step id programs name in `after`. */
export const NODE_STEP = "node";

/** The binary on the host is the pinned one, byte for byte (one sha256sum on the host, no copy). */
async function binaryCurrent(ctx: StepContext): Promise<boolean> {
  const node = await pinnedNode();
  const path = nodeBinOf(node.version);
  const found = (await ctx.transport.stat([path])).get(path);
  return found?.sha256 === node.sha256 && (found.mode & 0o111) !== 0;
}

async function linkCurrent(ctx: StepContext): Promise<boolean> {
  const { version } = await pinnedNode();
  return ctx.test(["sh", "-c", '[ "$(readlink -- "$1")" = "$2" ]', "sh", NODE_CURRENT, version]);
}

export function nodeStep(hosts: string[]): StepSpec {
  return {
    id: NODE_STEP,
    title: "install the pinned Node for hastack's programs",
    on: "each",
    hosts,
    async check(ctx) {
      return (await binaryCurrent(ctx)) && (await linkCurrent(ctx));
    },
    async apply(ctx) {
      const node = await pinnedNode();
      const bin = nodeBinOf(node.version);
      if (!(await binaryCurrent(ctx))) {
        ctx.log.info(`copying Node ${node.version} (${Math.round(node.size / 1e6)} MB)`);
        // The transport's writes create missing directories 0700 (umask 077): these must be
        // readable by whoever runs a program.
        await ctx.run([
          "sh",
          "-c",
          'umask 022 && mkdir -p -- "$1"',
          "sh",
          `${NODE_ROOT}/${node.version}/bin`,
        ]);
        await ctx.transport.writeFile(bin, await readFile(node.path), {
          owner: "root",
          group: "root",
          mode: 0o755,
        });
      }
      // It runs there (right architecture, its libc is enough) before anything points at it.
      const said = (await ctx.run([bin, "--version"])).stdout.trim();
      if (said !== node.version) {
        throw new HastackError(
          "E_SHIP_NODE",
          `Cannot install Node ${node.version} on ${ctx.host.name}: ${bin} --version says ${JSON.stringify(said)}`,
        );
      }
      // Relative, and swapped with a rename: a unit starting meanwhile sees the old or the new.
      await ctx.run([
        "sh",
        "-c",
        'ln -sfn -- "$2" "$1.hastack-new" && mv -T -- "$1.hastack-new" "$1"',
        "sh",
        NODE_CURRENT,
        node.version,
      ]);
    },
    // 126 MB over a slow link.
    timeoutMs: 1_800_000,
  };
}
