/**
 * @module
 * The pinned Node on the deploying machine (package.json's `node` package: node_modules/node),
 * which every shipped hastack program runs on, and where it lives on a host.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { HastackError } from "../../../util/errors.ts";

/** Every version side by side (a running program keeps its binary until it restarts). */
export const NODE_ROOT = "/opt/hastack/node";
/** The symlink to the version in use: units name this, never a version. */
export const NODE_CURRENT = `${NODE_ROOT}/current`;
export const NODE_BIN = `${NODE_CURRENT}/bin/node`;

/** The deploying machine's checkout: src/ and node_modules/ under it. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface PinnedNode {
  /** The binary on this machine. */
  path: string;
  /** As `node --version` says it: "v24.21.0". */
  version: string;
  sha256: string;
  size: number;
}

const NodePackage = z.object({ version: z.string().regex(/^\d+\.\d+\.\d+$/) });

let pinned: Promise<PinnedNode> | undefined;

/**
 * Read once per process: hashing 126 MB costs a few hundred ms, and the binary does not change
 * while a deploy runs.
 */
export function pinnedNode(): Promise<PinnedNode> {
  pinned ??= readPinned();
  return pinned;
}

/** A host's path to one version's binary. */
export function nodeBinOf(version: string): string {
  return `${NODE_ROOT}/${version}/bin/node`;
}

async function readPinned(): Promise<PinnedNode> {
  const dir = `${REPO_ROOT}node_modules/node`;
  const path = `${dir}/bin/node`;
  try {
    const meta = NodePackage.parse(JSON.parse(await readFile(`${dir}/package.json`, "utf8")));
    const hash = createHash("sha256");
    let size = 0;
    // 16 MiB reads: with the default 64 KiB, the ~2000 reads each waited their turn on an event
    // loop busy with a deploy's SSH sessions, and the hash took 34 s of a 4-minute no-op deploy.
    for await (const chunk of createReadStream(path, { highWaterMark: 16 << 20 }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { path, version: `v${meta.version}`, sha256: hash.digest("hex"), size };
  } catch (e) {
    pinned = undefined;
    throw new HastackError(
      "E_SHIP_LOCAL",
      `Cannot read the pinned Node in ${dir}: ${e instanceof Error ? e.message : String(e)}`,
      { hint: "run `npm ci` in the hastack checkout", cause: e },
    );
  }
}
