/**
 * @module
 * The builder tree: a Debian trixie root filesystem (mmdebstrap) holding the kernel, busybox,
 * extlinux and the tools the guest image is made with. Its tools run on this machine through the
 * tree's own dynamic loader, so the build needs nothing from the host's Debian release but
 * mmdebstrap, losetup and mount.
 */
import { createWriteStream } from "node:fs";
import path from "node:path";
import { HastackError } from "../../util/errors.ts";
import { lastLines, type RunOptions, type RunResult, run } from "../exec.ts";
import { BUILDER_PACKAGES, GUEST_MIRROR, GUEST_SUITE } from "./recipe.ts";

export async function buildTree(
  target: string,
  logPath: string,
  progress: (line: string) => void,
): Promise<void> {
  const log = createWriteStream(logPath);
  let unpacked = 0;
  const args = [
    "--verbose",
    // Only Essential: yes packages plus ours: the tree is a toolbox, never booted.
    "--variant=essential",
    `--include=${BUILDER_PACKAGES.join(",")}`,
    GUEST_SUITE,
    target,
    GUEST_MIRROR,
  ];
  const result = await run("mmdebstrap", args, {
    onLine(line) {
      log.write(`${line}\n`);
      if (/^[WE]: /.test(line)) progress(line);
      else if (line.startsWith("Unpacking ") && ++unpacked % 25 === 0)
        progress(`  unpacked ${unpacked} packages`);
    },
  });
  await new Promise((resolve) => log.end(resolve));
  if (result.code !== 0) {
    throw new HastackError(
      "E_GUEST_IMAGE",
      `Cannot build the guest image: mmdebstrap exited with code ${result.code}: ${lastLines(result.stderr, 3)}`,
      { hint: `the full log is in ${logPath}` },
    );
  }
}

/**
 * Runs one of the tree's programs on this machine with the tree's loader and libraries (the
 * host may be an older Debian whose libc the trixie binaries cannot use).
 */
export async function treeRun(
  tree: string,
  what: string,
  program: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const loader = path.join(tree, "usr/lib64/ld-linux-x86-64.so.2");
  const libraries = ["usr/lib/x86_64-linux-gnu", "usr/lib"].map((d) => path.join(tree, d)).join(":");
  const result = await run(loader, ["--library-path", libraries, path.join(tree, program), ...args], opts);
  if (result.code !== 0) {
    throw new HastackError(
      "E_GUEST_IMAGE",
      `Cannot ${what}: ${path.basename(program)} exited with code ${result.code}: ${lastLines(result.stderr || result.stdout, 3)}`,
    );
  }
  return result;
}
