/**
 * @module
 * A cpio archive in the "newc" format the kernel unpacks as an initramfs. Written here rather than
 * by a cpio tool so the archive can hold /dev/console (the kernel opens it before init runs)
 * without mknod, and so it comes out the same for the same inputs.
 */

export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Buffer | string; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "char"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

/** The archive's bytes: entries in the order given (parents before children), then the trailer. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const name = entry.path.replace(/^\/+/, "");
    if (name === "") continue;
    const { mode, data, rdev } = describe(entry);
    parts.push(record(name, { ino: ino++, mode, nlink: entry.kind === "dir" ? 2 : 1, rdev }, data));
  }
  parts.push(record("TRAILER!!!", { ino: 0, mode: 0, nlink: 1, rdev: [0, 0] }, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

function describe(entry: CpioEntry): { mode: number; data: Buffer; rdev: [number, number] } {
  switch (entry.kind) {
    case "dir":
      return { mode: S_IFDIR | (entry.mode ?? 0o755), data: Buffer.alloc(0), rdev: [0, 0] };
    case "file":
      return { mode: S_IFREG | (entry.mode ?? 0o644), data: Buffer.from(entry.data), rdev: [0, 0] };
    case "symlink":
      return { mode: S_IFLNK | 0o777, data: Buffer.from(entry.target), rdev: [0, 0] };
    case "char":
      return {
        mode: S_IFCHR | (entry.mode ?? 0o600),
        data: Buffer.alloc(0),
        rdev: [entry.major, entry.minor],
      };
  }
}

function record(
  name: string,
  meta: { ino: number; mode: number; nlink: number; rdev: [number, number] },
  data: Buffer,
): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [
    meta.ino,
    meta.mode,
    0, // uid: root
    0, // gid: root
    meta.nlink,
    0, // mtime: fixed, so the same inputs give the same archive
    data.length,
    0, // devmajor
    0, // devminor
    meta.rdev[0],
    meta.rdev[1],
    nameBytes.length,
    0, // check: unused by newc
  ];
  const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`);
  // newc pads the header plus name, and the data, to multiples of 4 bytes.
  return Buffer.concat([header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length)]);
}

function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
