/**
 * @module
 * Puts the lab's guest image and flavor into the cloud, so a new user can boot a server at once
 * (and `hastack smoke` has something to boot). Raw, not qcow2: Nova clones a raw Glance image in
 * RBD copy-on-write; a qcow2 one it downloads and converts for every server. Idempotent: an image
 * of the same recipe (its key is an image property) is left alone.
 */

import { readFile } from "node:fs/promises";
import type { Osc } from "../ops/smoke/osc.ts";
import { ImageShow } from "../ops/smoke/schemas.ts";
import { HastackError } from "../util/errors.ts";
import type { GuestImage } from "./guest-image/build.ts";

export const GUEST_IMAGE_NAME = "hastack-guest";
/** 96 MiB: the guest needs 80 (at 64 its decompressor faults); ~228 MB of RSS per VM under TCG. */
export const GUEST_FLAVOR = { name: "hastack.tiny", vcpus: 1, ramMiB: 96, diskGiB: 1 } as const;
const KEY_PROPERTY = "hastack_guest_key";

export async function uploadGuest(admin: Osc, guest: GuestImage, log: (line: string) => void): Promise<void> {
  const t = admin.transport;
  const existing = await admin.attempt(["image", "show", GUEST_IMAGE_NAME, "-f", "json"]);
  let stale: string | undefined;
  if (existing.code === 0) {
    const shown = await admin.json(["image", "show", GUEST_IMAGE_NAME], ImageShow);
    if (shown.properties?.[KEY_PROPERTY] === guest.manifest.key && shown.status === "active")
      log(`image ${GUEST_IMAGE_NAME} is there (${shown.id}, recipe ${guest.manifest.key})`);
    else stale = shown.id;
    if (!stale) return ensureFlavor(admin, log);
  }
  const qcow2 = "/var/tmp/hastack-guest.qcow2";
  const raw = "/var/tmp/hastack-guest.raw";
  await t.writeFile(qcow2, await readFile(guest.qcow2), { owner: "root", group: "root", mode: 0o600 });
  try {
    const conv = await t.exec(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2, raw], {
      timeoutMs: 120_000,
    });
    if (conv.code !== 0)
      throw new HastackError(
        "E_LAB_GUEST_UPLOAD",
        `Cannot convert the guest image on ${t.name}: exit code ${conv.code}: ${conv.stderr.trim()}`,
      );
    // The old one goes first: two images of one name make every `--image NAME` ambiguous.
    if (stale) await admin.run(["image", "delete", stale]);
    await admin.run(
      [
        "image",
        "create",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--public",
        "--file",
        raw,
        "--property",
        `${KEY_PROPERTY}=${guest.manifest.key}`,
        GUEST_IMAGE_NAME,
      ],
      300_000,
    );
    log(
      `image ${GUEST_IMAGE_NAME} uploaded (raw, ${guest.manifest.virtualMiB} MiB, recipe ${guest.manifest.key})`,
    );
  } finally {
    await t.exec(["rm", "-f", qcow2, raw]);
  }
  await ensureFlavor(admin, log);
}

async function ensureFlavor(admin: Osc, log: (line: string) => void): Promise<void> {
  const f = GUEST_FLAVOR;
  if ((await admin.attempt(["flavor", "show", f.name])).code === 0) {
    log(`flavor ${f.name} is there`);
    return;
  }
  await admin.run([
    "flavor",
    "create",
    "--public",
    "--vcpus",
    String(f.vcpus),
    "--ram",
    String(f.ramMiB),
    "--disk",
    String(f.diskGiB),
    f.name,
  ]);
  log(`flavor ${f.name} created (${f.vcpus} vCPU, ${f.ramMiB} MiB, ${f.diskGiB} GiB)`);
}
