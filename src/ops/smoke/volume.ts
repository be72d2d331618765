/**
 * @module
 * The smoke's volume step: a 1 GiB volume in Ceph's `volumes` pool created by the demo user,
 * attached to a running server, seen by the hypervisor (the guest's libvirt domain lists the RBD
 * image `volumes/volume-<id>` as a disk: QEMU opened it with client.cinder's key from libvirt's
 * secret), detached (Nova's service token lets Cinder delete the attachment), deleted. What the
 * guest itself sees is not read: it has no shell the smoke can reach, and Nova's console reader
 * is what hung the compute (smoke.ts).
 */
import { z } from "zod";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Osc } from "./osc.ts";
import { Created, type ServerShow } from "./schemas.ts";
import { pollFor, type SmokeRun } from "./steps.ts";

export const VolumeShow = z.looseObject({ id: z.string(), status: z.string() });

const VOLUME_WAIT_MS = 120_000;

async function volumeStatus(demo: Osc, id: string, want: string): Promise<void> {
  let seen = "";
  await pollFor(
    `see volume ${id} ${want}`,
    async () => {
      const v = await demo.json(["volume", "show", id], VolumeShow);
      seen = v.status;
      if (v.status.startsWith("error"))
        throw new HastackError(
          "E_SMOKE_STEP",
          `Volume ${id} went to ${v.status} (cinder-volume's log says why)`,
        );
      return v.status === want ? true : undefined;
    },
    { timeoutMs: VOLUME_WAIT_MS, intervalMs: 2000, lastSeen: () => seen },
  );
}

/** The RBD sources of a libvirt domain's disks (`virsh domblklist`: target, then source). */
export function domainSources(domblklist: string): string[] {
  return domblklist
    .split("\n")
    .slice(2)
    .map((l) => l.trim().split(/\s+/)[1] ?? "")
    .filter((s) => s !== "" && s !== "-");
}

export async function volumeStep(
  run: SmokeRun,
  demo: Osc,
  server: ServerShow,
  compute: Transport,
  tag: string,
): Promise<void> {
  await run.step("volume from Ceph, attached", async () => {
    const started = performance.now();
    const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const id = (await demo.json(["volume", "create", "--size", "1", tag], Created)).id;
    const deleted = run.onCleanup(`volume ${tag}`, async () => {
      const r = await demo.attempt(["volume", "delete", id]);
      if (r.code !== 0 && !/No volume with a name or ID/i.test(r.stderr))
        throw new HastackError("E_SMOKE_STEP", `Cannot delete volume ${id}: ${r.stderr.trim()}`);
    });
    await volumeStatus(demo, id, "available");
    const created = at();
    await demo.run(["server", "add", "volume", server.id, id]);
    // Registered after the delete, so it runs before it if anything below fails.
    const detached = run.onCleanup(`volume ${tag}'s attachment`, () =>
      demo
        .attempt(["server", "remove", "volume", server.id, id])
        .then(() => volumeStatus(demo, id, "available")),
    );
    await volumeStatus(demo, id, "in-use");
    const attached = at();
    const domain = String(server["OS-EXT-SRV-ATTR:instance_name"] ?? "");
    const host = String(server["OS-EXT-SRV-ATTR:host"] ?? "");
    const list = await compute.exec(["virsh", "-c", "qemu:///system", "domblklist", domain], {
      timeoutMs: 30_000,
    });
    const source = `volumes/volume-${id}`;
    if (list.code !== 0 || !domainSources(list.stdout).includes(source))
      throw new HastackError(
        "E_SMOKE_STEP",
        `Volume ${id} is in-use, but domain ${domain || "?"} on ${host} has no disk ${source}: ${(list.stdout || list.stderr).trim()}`,
      );
    await demo.run(["server", "remove", "volume", server.id, id]);
    await volumeStatus(demo, id, "available");
    detached();
    const free = at();
    await demo.run(["volume", "delete", id]);
    deleted();
    return `1 GiB volume ${id.slice(0, 8)} available after ${created}, in-use after ${attached} (domain ${domain} on ${host} has disk ${source}), detached after ${free}, deleted`;
  });
}

export const BackupShow = z.looseObject({ id: z.string(), status: z.string() });

/**
 * cinder-backup to Ceph: a backup of a new volume, found as an RBD image in the `backups` pool
 * (read on the client's controller with client.cinder's key), then deleted with its volume.
 */
export async function backupStep(run: SmokeRun, demo: Osc, tag: string): Promise<void> {
  await run.step("volume backup to Ceph", async () => {
    const started = performance.now();
    const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const volume = (await demo.json(["volume", "create", "--size", "1", `${tag}-b`], Created)).id;
    const deleted = run.onCleanup(`volume ${tag}-b`, async () => {
      await demo.attempt(["volume", "delete", volume]);
    });
    await volumeStatus(demo, volume, "available");
    const backup = (await demo.json(["volume", "backup", "create", "--name", tag, volume], Created)).id;
    const backupGone = run.onCleanup(`backup ${tag}`, async () => {
      await demo.attempt(["volume", "backup", "delete", backup]);
    });
    let seen = "";
    await pollFor(
      `see backup ${backup} available`,
      async () => {
        const b = await demo.json(["volume", "backup", "show", backup], BackupShow);
        seen = b.status;
        if (b.status.startsWith("error"))
          throw new HastackError(
            "E_SMOKE_STEP",
            `Backup ${backup} went to ${b.status} (cinder-backup's log says why)`,
          );
        return b.status === "available" ? true : undefined;
      },
      { timeoutMs: VOLUME_WAIT_MS, intervalMs: 2000, lastSeen: () => seen },
    );
    const done = at();
    const images = await demo.transport.exec(["rbd", "--id", "cinder", "ls", "backups"], {
      timeoutMs: 30_000,
    });
    // The RBD driver backs an RBD volume up differentially: a base image named after the volume
    // ("volume-<id>.backup.base"), the backup itself a snapshot of it.
    const image = images.stdout.split("\n").find((l) => l.includes(`volume-${volume}`));
    if (images.code !== 0 || !image)
      throw new HastackError(
        "E_SMOKE_STEP",
        `Backup ${backup} is available, but pool backups has no image of it: ${(images.stdout || images.stderr).trim() || "empty"}`,
      );
    await demo.run(["volume", "backup", "delete", backup]);
    await pollFor(
      `see backup ${backup} deleted`,
      async () => ((await demo.attempt(["volume", "backup", "show", backup])).code !== 0 ? true : undefined),
      { timeoutMs: VOLUME_WAIT_MS, intervalMs: 2000 },
    );
    backupGone();
    await demo.run(["volume", "delete", volume]);
    deleted();
    return `backup of a 1 GiB volume available after ${done} as RBD image backups/${image.trim()}, deleted`;
  });
}
