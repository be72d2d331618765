/**
 * @module
 * What the guest image is made of: Debian packages only (no download beyond apt). Everything here
 * and the guest's scripts feed the cache key (`guestImageKey`), so changing any of them rebuilds
 * the image on next use.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export const GUEST_SUITE = "trixie";
export const GUEST_MIRROR = "http://deb.debian.org/debian";

/** Bump when build.ts changes in a way the lists below do not show. */
export const GUEST_RECIPE_VERSION = "1";

/**
 * The toolbox tree the image is built from (mmdebstrap): the cloud kernel (virtio built in, no
 * firmware), busybox-static for the initramfs, extlinux and its MBR, e2fsprogs for `mke2fs -d`,
 * qemu-img for the qcow2, xz to unpack the kernel's modules.
 */
export const BUILDER_PACKAGES = [
  "linux-image-cloud-amd64",
  "busybox-static",
  "extlinux",
  "syslinux-common",
  "e2fsprogs",
  "qemu-utils",
  "xz-utils",
];

/**
 * Kernel modules in the initramfs, with their dependencies (from modules.dep), loaded in order.
 * Only virtio_net is required; the rest read a config drive (iso9660 on an IDE or SATA CD-ROM,
 * or a vfat disk) and are skipped when the kernel builds them in or lacks them.
 */
export const GUEST_MODULES: readonly { name: string; required: boolean }[] = [
  { name: "virtio_net", required: true },
  { name: "virtio_blk", required: false },
  { name: "virtio_scsi", required: false },
  { name: "ata_piix", required: false },
  { name: "ahci", required: false },
  { name: "sr_mod", required: false },
  { name: "isofs", required: false },
  { name: "vfat", required: false },
  { name: "nls_cp437", required: false },
  { name: "nls_ascii", required: false },
];

/**
 * The disk: an MBR with one bootable ext2 partition from 1 MiB to the end. ext2 because
 * extlinux 6.04 cannot read the features Debian's ext4 defaults turn on.
 */
export const DISK_MIB = 24;
export const PARTITION_OFFSET = 1024 * 1024;

/**
 * The kernel's command line: the last console= is /dev/console, where init's lines go, and
 * ttyS0 is what Nova logs (`openstack console log show`).
 */
export const KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200 quiet";

export function extlinuxConf(): string {
  return [
    "DEFAULT guest",
    "PROMPT 0",
    "TIMEOUT 0",
    "LABEL guest",
    "  KERNEL /vmlinuz",
    "  INITRD /initrd.img",
    `  APPEND ${KERNEL_CMDLINE}`,
    "",
  ].join("\n");
}

/** The guest's own scripts, shipped beside this file. */
export interface GuestScripts {
  rc: string;
  udhcpc: string;
  inittab: string;
}

export function guestScripts(): GuestScripts {
  const read = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
  return { rc: read("./rc.sh"), udhcpc: read("./udhcpc.sh"), inittab: read("./inittab") };
}

/** The cache key: a hash of everything that decides the image's content. */
export function guestImageKey(scripts: GuestScripts = guestScripts()): string {
  const recipe = {
    GUEST_RECIPE_VERSION,
    GUEST_SUITE,
    GUEST_MIRROR,
    BUILDER_PACKAGES,
    GUEST_MODULES,
    DISK_MIB,
    PARTITION_OFFSET,
    extlinux: extlinuxConf(),
    scripts,
  };
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 16);
}
