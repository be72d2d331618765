/**
 * @module
 * The guest image new servers boot (issue 9): built from Debian packages only, cached by a hash
 * of its recipe under the image cache (like the lab image), so it is built once per recipe.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { exists } from "../../util/fs.ts";
import { lockExclusive } from "../lock.ts";
import { removeTree } from "../mounts.ts";
import { imageCacheDir } from "../paths.ts";
import { buildDisk, buildInitramfs, convertToQcow2, findKernel } from "./assemble.ts";
import { DISK_MIB, GUEST_SUITE, guestImageKey, guestScripts, KERNEL_CMDLINE } from "./recipe.ts";
import { buildTree } from "./tree.ts";

export const GuestManifest = z.strictObject({
  key: z.string(),
  suite: z.string(),
  kernel: z.string(),
  /** The kernel command line, for direct kernel boot (Glance kernel_id/ramdisk_id) too. */
  cmdline: z.string(),
  modules: z.strictObject({
    load: z.array(z.string()),
    builtin: z.array(z.string()),
    missing: z.array(z.string()),
  }),
  virtualMiB: z.number().int().positive(),
  qcow2Bytes: z.number().int().positive(),
  built: z.string(),
  seconds: z.number(),
});
export type GuestManifest = z.output<typeof GuestManifest>;

export interface GuestImage {
  dir: string;
  /** The bootable disk (MBR, ext2, extlinux): what Glance stores as disk_format=qcow2. */
  qcow2: string;
  /** The same kernel and initramfs, for direct kernel boot. */
  kernel: string;
  initramfs: string;
  manifest: GuestManifest;
}

export interface EnsureGuestImageOptions {
  onProgress?: (line: string) => void;
}

/** Where guest images are cached: beside the lab images, in their own directory and lock. */
export function guestImageDir(): string {
  return path.join(imageCacheDir(), "guest");
}

/** The cached guest image, built first when its recipe changed. Concurrent callers serialise. */
export async function ensureGuestImage(opts: EnsureGuestImageOptions = {}): Promise<GuestImage> {
  const progress = opts.onProgress ?? (() => {});
  const scripts = guestScripts();
  const key = guestImageKey(scripts);
  const root = guestImageDir();
  const final = path.join(root, key);
  if (await exists(path.join(final, "manifest.json"))) return await load(final);
  await mkdir(root, { recursive: true });
  const release = await lockExclusive(path.join(root, ".lock"), () =>
    progress("waiting for another hastack process building the guest image"),
  );
  try {
    if (await exists(path.join(final, "manifest.json"))) return await load(final);
    for (const name of await readdir(root)) {
      if (name.startsWith(".build-")) await removeTree(path.join(root, name));
    }
    const tmp = path.join(root, `.build-${key}-${process.pid}`);
    await mkdir(tmp, { recursive: true });
    const started = Date.now();
    const tree = path.join(tmp, "tree");
    progress(`building guest image ${key} (Debian ${GUEST_SUITE} cloud kernel, busybox, extlinux)`);
    await buildTree(tree, path.join(tmp, "build.log"), progress);
    const kernel = await findKernel(tree);
    progress(`assembling the guest from kernel ${kernel.version}`);
    const { initramfs, modules } = await buildInitramfs(tree, kernel, scripts, tmp);
    const content = path.join(tmp, "content");
    await mkdir(content);
    await copyFile(kernel.image, path.join(content, "vmlinuz"));
    await writeFile(path.join(content, "initrd.img"), initramfs);
    const raw = path.join(tmp, "disk.raw");
    await buildDisk(tree, Number.parseInt(key.slice(0, 8), 16), content, raw);
    await convertToQcow2(tree, raw, path.join(tmp, "guest.qcow2"));
    await rename(path.join(content, "vmlinuz"), path.join(tmp, "vmlinuz"));
    await rename(path.join(content, "initrd.img"), path.join(tmp, "initrd.img"));
    // The tree (hundreds of MB) and the raw disk were only the means.
    await removeTree(tree);
    await rm(content, { recursive: true, force: true });
    await rm(raw, { force: true });
    await rm(path.join(tmp, "modules"), { recursive: true, force: true });
    const manifest: GuestManifest = {
      key,
      suite: GUEST_SUITE,
      kernel: kernel.version,
      cmdline: KERNEL_CMDLINE,
      modules,
      virtualMiB: DISK_MIB,
      qcow2Bytes: (await stat(path.join(tmp, "guest.qcow2"))).size,
      built: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    await writeFile(path.join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    // A rename is atomic: the cache directory either does not exist or holds a complete image.
    await rename(tmp, final);
    progress(
      `guest image ${key} built in ${manifest.seconds} s (${(manifest.qcow2Bytes / 1e6).toFixed(1)} MB qcow2)`,
    );
    return await load(final);
  } finally {
    await release();
  }
}

async function load(dir: string): Promise<GuestImage> {
  const text = await readFile(path.join(dir, "manifest.json"), "utf8");
  let parsed: ReturnType<typeof GuestManifest.safeParse>;
  try {
    parsed = GuestManifest.safeParse(JSON.parse(text));
  } catch (error) {
    throw new HastackError("E_GUEST_IMAGE", `Cannot read the guest image manifest in ${dir}: not JSON`, {
      cause: error,
      hint: `remove ${dir} to rebuild it`,
    });
  }
  if (!parsed.success) {
    throw new HastackError(
      "E_GUEST_IMAGE",
      `Cannot read the guest image manifest in ${dir}: ${parsed.error.message}`,
      {
        cause: parsed.error,
        hint: `remove ${dir} to rebuild it`,
      },
    );
  }
  return {
    dir,
    qcow2: path.join(dir, "guest.qcow2"),
    kernel: path.join(dir, "vmlinuz"),
    initramfs: path.join(dir, "initrd.img"),
    manifest: parsed.data,
  };
}
