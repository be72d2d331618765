/**
 * @module
 * Creating Ceph daemons on a host without cephadm: what the deploy steps do, as functions of a
 * Transport so a real-tools test runs exactly these commands in a lab-image container. Starting
 * the daemon (systemd) is the caller's part. Keys travel in files written by the transport or on
 * stdin, never in argv.
 */
import { randomUUID } from "node:crypto";
import { serializeDoc } from "../../formats/serialize.ts";
import { runTool } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";
import type { ErrorCode } from "../../util/error-codes.ts";
import { HastackError } from "../../util/errors.ts";
import { ceph } from "./ceph-tool.ts";
import { keyring } from "./conf.ts";
import { ADMIN_CAPS, BOOTSTRAP_OSD_CAPS, BOOTSTRAP_OSD_KEYRING, MGR_CAPS } from "./layout.ts";
import type { OsdSpec } from "./settings.ts";

const CEPH_OWNER = { owner: "ceph", group: "ceph" };

export function monDir(name: string): string {
  return `/var/lib/ceph/mon/ceph-${name}`;
}

export function mgrDir(name: string): string {
  return `/var/lib/ceph/mgr/ceph-${name}`;
}

export interface MonKeys {
  mon: string;
  admin: string;
  bootstrapOsd: string;
}

/** The initial monitor map: every monitor with its v2+v1 address, the same bytes on every host. */
export interface MonSeed {
  fsid: string;
  /** name -> `[v2:ip:3300,v1:ip:6789]` */
  mons: [string, string][];
}

/** A monitor store exists (its keyring is the last thing --mkfs writes). */
export async function monCreated(t: Transport, name: string): Promise<boolean> {
  return (await t.exec(["test", "-s", `${monDir(name)}/keyring`])).code === 0;
}

/**
 * `ceph-mon --mkfs`. With `join`, the monitor map comes from the running cluster (a monitor
 * added later, or a host whose disk was replaced); otherwise it is the initial map of every
 * monitor, so all of them can be created at once and form a quorum when a majority starts.
 */
export async function createMon(
  t: Transport,
  name: string,
  keys: MonKeys,
  seed: MonSeed,
  join: boolean,
): Promise<void> {
  const tmp = "/var/lib/ceph/tmp/hastack-mon";
  const text = [
    serializeDoc(keyring("mon.", keys.mon, { mon: "allow *" })),
    serializeDoc(keyring("client.admin", keys.admin, ADMIN_CAPS)),
    serializeDoc(keyring("client.bootstrap-osd", keys.bootstrapOsd, BOOTSTRAP_OSD_CAPS)),
  ].join("\n");
  await t.writeFile(`${tmp}/keyring`, text, { ...CEPH_OWNER, mode: 0o600 });
  const what = `create ceph-mon.${name}`;
  try {
    if (join) {
      await ceph(t, `fetch the monitor map for ceph-mon.${name}`, ["mon", "getmap", "-o", `${tmp}/monmap`]);
    } else {
      const add = seed.mons.flatMap(([n, vec]) => ["--addv", n, vec]);
      await runTool(t, "E_CEPH_MON_CREATE", what, [
        "monmaptool",
        "--create",
        "--clobber",
        "--fsid",
        seed.fsid,
        "--enable-all-features",
        ...add,
        `${tmp}/monmap`,
      ]);
    }
    await cephDir(t, "E_CEPH_MON_CREATE", what, monDir(name));
    await runTool(t, "E_CEPH_MON_CREATE", what, [
      "runuser",
      "-u",
      "ceph",
      "--",
      "ceph-mon",
      "--mkfs",
      "-i",
      name,
      "--monmap",
      `${tmp}/monmap`,
      "--keyring",
      `${tmp}/keyring`,
    ]);
  } finally {
    await t.exec(["rm", "-rf", tmp]);
  }
}

/** The manager's keyring, made by the cluster (`auth get-or-create` keeps an existing key). */
export async function createMgr(t: Transport, name: string): Promise<void> {
  const dir = mgrDir(name);
  await cephDir(t, "E_CEPH", `create ${dir}`, dir);
  const caps = Object.entries(MGR_CAPS).flat();
  const r = await ceph(t, `create the key of mgr.${name}`, ["auth", "get-or-create", `mgr.${name}`, ...caps]);
  await t.writeFile(`${dir}/keyring`, r.stdout, { ...CEPH_OWNER, mode: 0o600 });
}

export async function mgrCreated(t: Transport, name: string): Promise<boolean> {
  return (await t.exec(["test", "-s", `${mgrDir(name)}/keyring`])).code === 0;
}

/**
 * The OSD id whose data directory belongs to `spec`: a file OSD's `block` symlink points at the
 * file; a device OSD is found by ceph-volume. Undefined when there is none yet.
 */
export async function findOsd(t: Transport, spec: OsdSpec): Promise<number | undefined> {
  if (spec.kind === "device") {
    const r = await t.exec(["ceph-volume", "lvm", "list", spec.path, "--format", "json"]);
    const ids = r.code === 0 ? Object.keys(JSON.parse(r.stdout || "{}") as object) : [];
    return ids.length > 0 ? Number(ids[0]) : undefined;
  }
  const script = `for d in /var/lib/ceph/osd/ceph-*; do [ "$(readlink "$d/block")" = "$1" ] && [ -s "$d/whoami" ] && [ -s "$d/keyring" ] && cat "$d/whoami"; done; true`;
  const r = await t.exec(["sh", "-c", script, "sh", spec.path]);
  const id = r.stdout.trim().split("\n")[0];
  return id ? Number(id) : undefined;
}

/**
 * A new BlueStore OSD: on a device with ceph-volume (it also enables the units), on a file by
 * hand as the lab measured: `osd new` with the bootstrap-osd key, then `ceph-osd --mkfs`.
 * Returns the OSD id. A failed mkfs gives its id back (purge-new), so a retry does not leak ids.
 * With `reuseId`, the new OSD takes over a destroyed one's id (replace-osd).
 */
export async function createOsd(
  t: Transport,
  host: string,
  spec: OsdSpec,
  reuseId?: number,
): Promise<number> {
  const reuse = reuseId === undefined ? [] : [String(reuseId)];
  if (spec.kind === "device") {
    await runTool(
      t,
      "E_CEPH_OSD_CREATE",
      `create an OSD on ${spec.path}`,
      [
        "ceph-volume",
        "lvm",
        "create",
        "--bluestore",
        "--data",
        spec.path,
        ...(reuseId === undefined ? [] : ["--osd-id", String(reuseId)]),
      ],
      { timeoutMs: 600_000 },
    );
    const id = await findOsd(t, spec);
    if (id === undefined)
      throw new HastackError(
        "E_CEPH_OSD_CREATE",
        `Cannot find the OSD ceph-volume made on ${spec.path} on ${host}`,
      );
    return id;
  }
  const as = { id: { name: "client.bootstrap-osd", keyring: BOOTSTRAP_OSD_KEYRING } };
  const secret = (
    await runTool(t, "E_CEPH", "generate an OSD key", ["ceph-authtool", "--gen-print-key"])
  ).stdout.trim();
  const uuid = randomUUID();
  // With an id: the destroyed OSD's id and CRUSH place are taken over (a replaced disk).
  const made = await ceph(
    t,
    `register a new OSD for ${spec.path}`,
    ["osd", "new", uuid, ...reuse, "-i", "-"],
    {
      ...as,
      stdin: JSON.stringify({ cephx_secret: secret }),
    },
  );
  const id = Number(made.stdout.trim());
  const dir = `/var/lib/ceph/osd/ceph-${id}`;
  try {
    const fileDir = spec.path.replace(/\/[^/]+$/, "") || "/";
    for (const d of [dir, fileDir]) await cephDir(t, "E_CEPH_OSD_CREATE", `create ${d}`, d);
    await t.writeFile(`${dir}/keyring`, serializeDoc(keyring(`osd.${id}`, secret)), {
      ...CEPH_OWNER,
      mode: 0o600,
    });
    await runTool(
      t,
      "E_CEPH_OSD_CREATE",
      `create ceph-osd.${id} on ${spec.path}`,
      [
        "ceph-osd",
        "-i",
        String(id),
        "--mkfs",
        "--osd-uuid",
        uuid,
        "--osd-objectstore",
        "bluestore",
        "--bluestore-block-path",
        spec.path,
        "--bluestore-block-create",
        "true",
        "--bluestore-block-size",
        String(spec.sizeGb * 1024 ** 3),
        "--setuser",
        "ceph",
        "--setgroup",
        "ceph",
      ],
      { timeoutMs: 300_000 },
    );
  } catch (e) {
    await t.exec(["rm", "-rf", dir]);
    await t.exec(["rm", "-f", spec.path]);
    // A destroyed id stays destroyed for the next attempt; only a brand-new one is given back.
    if (reuseId === undefined)
      await ceph(
        t,
        `give back osd.${id}`,
        ["osd", "purge-new", String(id), "--yes-i-really-mean-it"],
        as,
      ).catch(() => {});
    throw e;
  }
  return id;
}

/** A daemon's data directory, owned by ceph and closed to others (mon, mgr and OSD dirs alike). */
async function cephDir(t: Transport, code: ErrorCode, what: string, dir: string): Promise<void> {
  await runTool(t, code, what, ["install", "-d", "-o", "ceph", "-g", "ceph", "-m", "0750", dir]);
}
