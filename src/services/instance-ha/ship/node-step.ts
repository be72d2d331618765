/**
 * @module
 * The step that puts the pinned Node on hosts: NODE_ROOT/<version>/bin/node, copied only when
 * its sha256 differs from the deploying machine's, and NODE_CURRENT pointing at it. One step for
 * every program of a host (the agent on computes, the engine on controllers): a service includes
 * it once, with the union of its programs' hosts, so two programs on a host never both copy it.
 */
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { HastackError } from "../../../util/errors.ts";
import type { StepContext, StepSpec } from "../../types.ts";
import { NODE_CURRENT, NODE_ROOT, nodeBinOf, pinnedNode } from "./pinned-node.ts";

/** The step id programs name in `after`. */
export const NODE_STEP = "node";

/**
 * Beside the binary, the sha256 it was verified to have when this step put it there. A version's
 * directory is written once: the check reads this and the binary's size instead of hashing
 * 126 MB on every host at every deploy (21-33 s a host on a loaded lab, on every no-op deploy).
 */
function markerOf(version: string): string {
  return `${NODE_ROOT}/${version}/.sha256`;
}

/** The marker names the pinned sha256 and the binary has its size and is executable. */
async function markedCurrent(ctx: StepContext): Promise<boolean> {
  const node = await pinnedNode();
  return ctx.test([
    "sh",
    "-c",
    '[ "$(cat -- "$1" 2>/dev/null)" = "$2" ] && [ -x "$3" ] && [ "$(stat -L -c %s -- "$3")" = "$4" ]',
    "sh",
    markerOf(node.version),
    node.sha256,
    nodeBinOf(node.version),
    String(node.size),
  ]);
}

/** The binary on the host is the pinned one, byte for byte (one sha256sum on the host, no copy). */
async function binaryCurrent(ctx: StepContext): Promise<boolean> {
  const node = await pinnedNode();
  const path = nodeBinOf(node.version);
  const found = (await ctx.transport.stat([path])).get(path);
  return found?.sha256 === node.sha256 && (found.mode & 0o111) !== 0;
}

let packed: Promise<Buffer> | undefined;

/** gzip -1 once per deploy: 126 MB goes over SSH as ~50 MB, to every host, for ~2 s of CPU here. */
function packedNode(path: string): Promise<Buffer> {
  packed ??= readFile(path).then((raw) => promisify(gzip)(raw, { level: 1 }));
  return packed;
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
      return (await markedCurrent(ctx)) && (await linkCurrent(ctx));
    },
    async apply(ctx) {
      const node = await pinnedNode();
      const bin = nodeBinOf(node.version);
      if (!(await binaryCurrent(ctx))) {
        const gz = await packedNode(node.path);
        ctx.log.info(`copying Node ${node.version} (${Math.round(gz.length / 1e6)} MB gzipped)`);
        // The transport's writes create missing directories 0700 (umask 077): these must be
        // readable by whoever runs a program.
        await ctx.run([
          "sh",
          "-c",
          'umask 022 && mkdir -p -- "$1"',
          "sh",
          `${NODE_ROOT}/${node.version}/bin`,
        ]);
        await ctx.transport.writeFile(`${bin}.hastack-new.gz`, gz, {
          owner: "root",
          group: "root",
          mode: 0o600,
        });
        // gzip's CRC catches a damaged copy; the rename makes the binary appear whole or not at all.
        await ctx.run([
          "sh",
          "-c",
          'gunzip -c -- "$1.hastack-new.gz" > "$1.hastack-new" && rm -f -- "$1.hastack-new.gz" && chmod 0755 -- "$1.hastack-new" && mv -f -- "$1.hastack-new" "$1"',
          "sh",
          bin,
        ]);
        if (!(await binaryCurrent(ctx)))
          throw new HastackError(
            "E_SHIP_NODE",
            `Cannot install Node ${node.version} on ${ctx.host.name}: ${bin} does not have the pinned sha256 after the copy`,
          );
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
      await ctx.transport.writeFile(markerOf(node.version), `${node.sha256}\n`, {
        owner: "root",
        group: "root",
        mode: 0o644,
      });
    },
    // 126 MB over a slow link.
    timeoutMs: 1_800_000,
  };
}
