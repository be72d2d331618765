/**
 * @module
 * The pinned Node on the deploying machine (package.json's `node` package: node_modules/node),
 * which every shipped hastack program runs on, and where it lives on a host.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { HastackError } from "../../../util/errors.ts";
import { hashCache } from "./hash-cache.ts";

/** Every version side by side (a running program keeps its binary until it restarts). */
export const NODE_ROOT = "/opt/hastack/node";
/** The symlink to the version in use: units name this, never a version. */
export const NODE_CURRENT = `${NODE_ROOT}/current`;
export const NODE_BIN = `${NODE_CURRENT}/bin/node`;

/** The deploying machine's checkout: src/ and node_modules/ under it. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/**
 * The checkout's file hashes, remembered across deploys (hash-cache.ts says why), under
 * node_modules: `npm ci` starts it afresh with the files it holds.
 */
export const shipHashes = hashCache(`${REPO_ROOT}node_modules/.cache/hastack/sha256.json`);

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
    const { sha256, size } = await shipHashes.hash(path);
    await shipHashes.save();
    return { path, version: `v${meta.version}`, sha256, size };
  } catch (e) {
    pinned = undefined;
    throw new HastackError(
      "E_SHIP_LOCAL",
      `Cannot read the pinned Node in ${dir}: ${e instanceof Error ? e.message : String(e)}`,
      { hint: "run `npm ci` in the hastack checkout", cause: e },
    );
  }
}
