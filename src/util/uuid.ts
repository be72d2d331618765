import { createHash } from "node:crypto";

/**
 * A stable UUID from a seed (the Ceph fsid, libvirt secrets' names): the same site always gets
 * the same one without storing it. SHA-256 in RFC 4122 layout, version 4 and variant bits set so
 * Ceph, libvirt and every tool accept it.
 */
export function uuidFromSeed(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
