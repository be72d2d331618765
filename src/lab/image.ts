import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Component } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";
import { exists } from "../util/fs.ts";
import { lastLines, run, runChecked } from "./exec.ts";
import { type ImageContents, imageContents, unitActions } from "./image-contents.ts";
import { ALWAYS_MASK, KEEP_ENABLED, MIRROR, RECIPE_VERSION, SUITE } from "./image-recipe.ts";
import { lockExclusive } from "./lock.ts";
import { removeTree } from "./mounts.ts";
import { imageCacheDir } from "./paths.ts";

export interface EnsureImageOptions {
  /** Every service's components: the image holds all their packages (src/lab/image-contents.ts). */
  components: readonly Component[];
  onProgress?: (line: string) => void;
}

/** Where the Node.js runtime is shipped inside the image, for hastack's host daemons. */
export const IMAGE_NODE_PATH = "/opt/hastack/node/bin/node";

/** The cache key: a hash of everything that decides the image's content. */
export function imageKey(contents: ImageContents, nodeVersion: string = process.version): string {
  const PACKAGES = contents.packages;
  const DEPLOY_MANAGED = contents.deployManaged;
  const recipe = { RECIPE_VERSION, SUITE, MIRROR, PACKAGES, KEEP_ENABLED: KEEP_ENABLED.map(String) };
  const units = { DEPLOY_MANAGED, ALWAYS_MASK, nodeVersion };
  return createHash("sha256").update(JSON.stringify({ recipe, units })).digest("hex").slice(0, 16);
}

/**
 * Returns the path of the cached Debian 13 root filesystem, building it first when its cache key
 * changed. Concurrent callers serialise on a file lock; the loser reuses the winner's image.
 */
export async function ensureImage(opts: EnsureImageOptions): Promise<string> {
  const progress = opts.onProgress ?? (() => {});
  const root = imageCacheDir();
  const node = await nodeRuntime();
  const contents = imageContents(opts.components);
  const key = imageKey(contents, node.version);
  const final = path.join(root, key);
  const rootfs = path.join(final, "rootfs");
  if (await exists(path.join(final, "manifest.json"))) return rootfs;
  await fs.mkdir(root, { recursive: true });
  const release = await lockExclusive(path.join(root, ".lock"), () =>
    progress("waiting for another hastack process building the lab image"),
  );
  try {
    if (await exists(path.join(final, "manifest.json"))) return rootfs;
    await removeStaleBuilds(root);
    const tmp = path.join(root, `.build-${key}-${process.pid}`);
    await fs.mkdir(tmp, { recursive: true });
    const started = Date.now();
    progress(
      `building lab image ${key} (Debian ${SUITE}, ${contents.packages.length} packages); this takes minutes`,
    );
    await bootstrap(contents, path.join(tmp, "rootfs"), path.join(tmp, "build.log"), progress);
    progress("making services idle at boot");
    await customize(contents, path.join(tmp, "rootfs"), node.path);
    const seconds = Math.round((Date.now() - started) / 1000);
    const manifest = {
      key,
      suite: SUITE,
      packages: contents.packages,
      built: new Date().toISOString(),
      seconds,
    };
    await fs.writeFile(path.join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    // A rename is atomic: the cache directory either does not exist or holds a complete image.
    await fs.rename(tmp, final);
    progress(`lab image ${key} built in ${seconds} s`);
    return rootfs;
  } finally {
    await release();
  }
}

async function bootstrap(
  contents: ImageContents,
  target: string,
  logPath: string,
  progress: (line: string) => void,
): Promise<void> {
  const log = createWriteStream(logPath);
  const counts: Record<string, number> = { "Get:": 0, "Unpacking ": 0, "Setting up ": 0 };
  const phases: Record<string, string> = {
    "Get:": "downloaded",
    "Unpacking ": "unpacked",
    "Setting up ": "configured",
  };
  const args = [
    "--verbose",
    "--variant=apt",
    `--include=${contents.packages.join(",")}`,
    SUITE,
    target,
    MIRROR,
  ];
  const result = await run("mmdebstrap", args, {
    onLine(line) {
      log.write(`${line}\n`);
      if (/^[IWE]: /.test(line) && !line.includes("mmdebstrap.apt.conf")) progress(line);
      else {
        const prefix = Object.keys(counts).find((p) => line.startsWith(p));
        if (prefix === undefined) return;
        const n = (counts[prefix] ?? 0) + 1;
        counts[prefix] = n;
        if (n % 100 === 0) progress(`  ${phases[prefix]} ${n} packages`);
      }
    },
  });
  await new Promise((resolve) => log.end(resolve));
  if (result.code !== 0) {
    throw new HastackError(
      "E_LAB_IMAGE",
      `Cannot build the lab image: mmdebstrap exited with code ${result.code}: ${lastLines(result.stderr, 3)}`,
      { hint: `the full log is in ${logPath}` },
    );
  }
}

async function customize(contents: ImageContents, rootfs: string, nodeBinary: string): Promise<void> {
  const listed = await runChecked("list enabled units in the image", "chroot", [
    rootfs,
    "systemctl",
    "list-unit-files",
    "--state=enabled",
    "--no-legend",
    "--no-pager",
  ]);
  const enabled = listed.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((u) => u !== "");
  // Deploy-managed units are disabled, never masked; the rest is masked (image-contents.ts).
  const { disable, mask } = unitActions(enabled, contents);
  if (disable.length > 0) await systemctl(rootfs, ["disable", ...disable]);
  await systemctl(rootfs, ["mask", ...mask]);
  await systemctl(rootfs, ["enable", "systemd-networkd.service", "ssh.service"]);
  // Every host gets its own identity in its overlay; the image must not carry a shared one.
  await fs.writeFile(path.join(rootfs, "etc/machine-id"), "");
  await fs.rm(path.join(rootfs, "var/lib/dbus/machine-id"), { force: true });
  for (const name of await fs.readdir(path.join(rootfs, "etc/ssh"))) {
    if (name.startsWith("ssh_host_")) await fs.rm(path.join(rootfs, "etc/ssh", name));
  }
  await fs.rm(path.join(rootfs, "var/lib/rabbitmq/.erlang.cookie"), { force: true });
  await fs.writeFile(path.join(rootfs, "etc/hostname"), "lab\n");
  await fs.writeFile(path.join(rootfs, "etc/ssh/sshd_config.d/hastack-lab.conf"), "UseDNS no\n");
  const nodeTarget = path.join(rootfs, IMAGE_NODE_PATH);
  await fs.mkdir(path.dirname(nodeTarget), { recursive: true });
  await fs.copyFile(nodeBinary, nodeTarget);
  await fs.chmod(nodeTarget, 0o755);
}

/**
 * The Node.js 24 runtime pinned in package.json (the `node` package), whichever node runs us:
 * the image key follows its version, so every caller agrees on the key.
 */
async function nodeRuntime(): Promise<{ path: string; version: string }> {
  const pinned = fileURLToPath(new URL("../../node_modules/node/bin/node", import.meta.url));
  const binary = await fs.realpath(pinned).catch(() => fs.realpath(process.execPath));
  const result = await runChecked("read the Node.js version", binary, ["--version"]);
  return { path: binary, version: result.stdout.trim() };
}

async function systemctl(rootfs: string, args: string[]): Promise<void> {
  await runChecked(`run systemctl ${args[0]} in the image`, "chroot", [
    rootfs,
    "systemctl",
    "--quiet",
    ...args,
  ]);
}

/** Stale builds are left by a crash; we hold the lock, so nobody else is using them. */
async function removeStaleBuilds(root: string): Promise<void> {
  for (const name of await fs.readdir(root)) {
    if (name.startsWith(".build-")) await removeTree(path.join(root, name));
  }
}
