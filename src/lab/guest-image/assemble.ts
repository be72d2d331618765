/**
 * @module
 * Assembles the guest from the builder tree: the initramfs (busybox, modules, the boot scripts)
 * and the bootable disk (MBR, ext2 partition with kernel, initramfs and extlinux), then the qcow2.
 */
import { copyFile, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { exists } from "../../util/fs.ts";
import { run, runChecked } from "../exec.ts";
import { type CpioEntry, cpioArchive } from "./cpio.ts";
import { masterBootRecord } from "./mbr.ts";
import { type ModulePlan, planModules } from "./modules.ts";
import { DISK_MIB, extlinuxConf, GUEST_MODULES, type GuestScripts, PARTITION_OFFSET } from "./recipe.ts";
import { treeRun } from "./tree.ts";

export interface Kernel {
  version: string;
  /** The vmlinuz file in the tree. */
  image: string;
  /** /usr/lib/modules/<version> in the tree. */
  modules: string;
}

/** The tree's one cloud kernel. */
export async function findKernel(tree: string): Promise<Kernel> {
  const names = (await readdir(path.join(tree, "boot"))).filter((n) => n.startsWith("vmlinuz-"));
  const [name] = names;
  if (name === undefined || names.length !== 1) {
    throw new HastackError(
      "E_GUEST_IMAGE",
      `Cannot build the guest image: expected one kernel in the builder tree's /boot, found ${names.length}`,
    );
  }
  const version = name.slice("vmlinuz-".length);
  return {
    version,
    image: path.join(tree, "boot", name),
    modules: path.join(tree, "usr/lib/modules", version),
  };
}

/** The initramfs's bytes (gzip'd newc cpio) and which modules it loads. */
export async function buildInitramfs(
  tree: string,
  kernel: Kernel,
  scripts: GuestScripts,
  work: string,
): Promise<{ initramfs: Buffer; modules: ModulePlan }> {
  const plan = planModules(
    await readFile(path.join(kernel.modules, "modules.dep"), "utf8"),
    await readFile(path.join(kernel.modules, "modules.builtin"), "utf8"),
    GUEST_MODULES,
  );
  // Debian compresses modules with xz; busybox insmod wants them plain.
  const unpacked = path.join(work, "modules");
  await mkdir(unpacked, { recursive: true });
  const files: { name: string; data: Buffer }[] = [];
  for (const rel of plan.load) {
    const copy = path.join(unpacked, path.basename(rel));
    await copyFile(path.join(kernel.modules, rel), copy);
    let plain = copy;
    if (copy.endsWith(".xz")) {
      await treeRun(tree, `unpack module ${path.basename(rel)}`, "usr/bin/xz", [
        "--decompress",
        "--force",
        copy,
      ]);
      plain = copy.slice(0, -".xz".length);
    }
    files.push({ name: path.basename(plain), data: await readFile(plain) });
  }
  const busybox = path.join(tree, "usr/bin/busybox");
  if (!(await exists(busybox)))
    throw new HastackError(
      "E_GUEST_IMAGE",
      "Cannot build the guest image: the builder tree has no /usr/bin/busybox",
    );
  const entries: CpioEntry[] = [
    ...["bin", "dev", "etc", "lib", "lib/modules", "mnt", "proc", "run", "sys", "tmp", "www"].map(
      (p): CpioEntry => ({ kind: "dir", path: p }),
    ),
    // The kernel opens /dev/console for init before anything can mount devtmpfs.
    { kind: "char", path: "dev/console", major: 5, minor: 1 },
    { kind: "file", path: "bin/busybox", data: await readFile(busybox), mode: 0o755 },
    { kind: "symlink", path: "init", target: "bin/busybox" },
    { kind: "file", path: "etc/inittab", data: scripts.inittab },
    { kind: "file", path: "etc/rc.sh", data: scripts.rc, mode: 0o755 },
    { kind: "file", path: "etc/udhcpc.sh", data: scripts.udhcpc, mode: 0o755 },
    { kind: "file", path: "etc/hostname", data: "guest\n" },
    { kind: "file", path: "etc/modules", data: files.map((f) => `${f.name}\n`).join("") },
    ...files.map((f): CpioEntry => ({ kind: "file", path: `lib/modules/${f.name}`, data: f.data })),
  ];
  return { initramfs: gzipSync(cpioArchive(entries), { level: 9 }), modules: plan };
}

const LoopDevice = z.string().regex(/^\/dev\/loop\d+$/);

/**
 * The raw disk: an ext2 file system made from a directory at the partition's offset (no mount
 * needed), extlinux installed through an offset loop device (it needs the mounted file system),
 * then the MBR with syslinux's boot code.
 */
export async function buildDisk(
  tree: string,
  signature: number,
  content: string,
  raw: string,
): Promise<void> {
  const fsBytes = DISK_MIB * 1024 * 1024 - PARTITION_OFFSET;
  await writeFile(path.join(content, "extlinux.conf"), extlinuxConf());
  const handle = await open(raw, "w");
  await handle.truncate(DISK_MIB * 1024 * 1024);
  await handle.close();
  await treeRun(
    tree,
    "make the guest's ext2 file system",
    "usr/sbin/mke2fs",
    [
      "-q",
      "-F",
      "-t",
      "ext2",
      "-L",
      "guest-boot",
      "-d",
      content,
      "-E",
      `offset=${PARTITION_OFFSET}`,
      raw,
      `${fsBytes / 1024}k`,
    ],
    { env: { ...process.env, MKE2FS_CONFIG: path.join(tree, "etc/mke2fs.conf") } },
  );
  const attached = await runChecked("attach the guest disk to a loop device", "losetup", [
    "--find",
    "--show",
    "--offset",
    String(PARTITION_OFFSET),
    "--sizelimit",
    String(fsBytes),
    raw,
  ]);
  const parsed = LoopDevice.safeParse(attached.stdout.trim());
  if (!parsed.success) {
    throw new HastackError(
      "E_TOOL_OUTPUT",
      `Cannot attach the guest disk: losetup printed ${JSON.stringify(attached.stdout.trim())}, not a loop device`,
    );
  }
  const loop = parsed.data;
  const mnt = path.join(path.dirname(raw), "mnt");
  await mkdir(mnt, { recursive: true });
  try {
    await runChecked("mount the guest's file system", "mount", ["-t", "ext2", loop, mnt]);
    try {
      await treeRun(tree, "install extlinux on the guest disk", "usr/bin/extlinux", ["--install", mnt]);
    } finally {
      await runChecked("unmount the guest's file system", "umount", [mnt]);
    }
  } finally {
    await run("losetup", ["--detach", loop]);
    await rm(mnt, { recursive: true, force: true });
  }
  const mbr = masterBootRecord({
    bootCode: await readFile(path.join(tree, "usr/lib/syslinux/mbr/mbr.bin")),
    signature,
    offset: PARTITION_OFFSET,
    length: fsBytes,
  });
  const disk = await open(raw, "r+");
  try {
    await disk.write(mbr, 0, mbr.length, 0);
  } finally {
    await disk.close();
  }
}

/** A compressed qcow2 of the raw disk: what Glance stores. */
export async function convertToQcow2(tree: string, raw: string, qcow2: string): Promise<void> {
  await treeRun(tree, "convert the guest disk to qcow2", "usr/bin/qemu-img", [
    "convert",
    "-c",
    "-f",
    "raw",
    "-O",
    "qcow2",
    raw,
    qcow2,
  ]);
}
