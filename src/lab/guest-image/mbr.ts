/**
 * @module
 * The guest disk's master boot record: syslinux's boot code (mbr.bin), a disk signature, and one
 * bootable Linux partition. Written here so building the disk needs no partitioning tool or udev.
 */
import { HastackError } from "../../util/errors.ts";

const SECTOR = 512;

export interface MbrOptions {
  /** syslinux's mbr.bin: at most 440 bytes of boot code. */
  bootCode: Buffer;
  /** The disk signature (bytes 440-443); Linux shows it as the PARTUUID prefix. */
  signature: number;
  /** Where the partition starts and how long it is, in bytes (multiples of 512). */
  offset: number;
  length: number;
}

/** The first 512 bytes of the disk. */
export function masterBootRecord(opts: MbrOptions): Buffer {
  if (opts.bootCode.length > 440)
    throw new HastackError(
      "E_GUEST_IMAGE",
      `Cannot write the MBR: boot code of ${opts.bootCode.length} bytes exceeds 440`,
    );
  if (opts.offset % SECTOR !== 0 || opts.length % SECTOR !== 0 || opts.offset < SECTOR)
    throw new HastackError(
      "E_GUEST_IMAGE",
      "Cannot write the MBR: the partition must start after it, on whole sectors",
    );
  const mbr = Buffer.alloc(SECTOR);
  opts.bootCode.copy(mbr, 0);
  mbr.writeUInt32LE(opts.signature >>> 0, 440);
  const entry = 446;
  mbr[entry] = 0x80; // active: mbr.bin boots this partition's boot sector (extlinux's)
  // CHS fields say "use LBA" (the maximum), as modern partitioners write them.
  mbr.set([0xfe, 0xff, 0xff], entry + 1);
  mbr[entry + 4] = 0x83; // Linux
  mbr.set([0xfe, 0xff, 0xff], entry + 5);
  mbr.writeUInt32LE(opts.offset / SECTOR, entry + 8);
  mbr.writeUInt32LE(opts.length / SECTOR, entry + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}
