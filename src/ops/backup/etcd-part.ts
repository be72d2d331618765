/**
 * @module
 * The etcd part: `etcdctl snapshot save` from one healthy member's own client URL (a snapshot is
 * one member's copy of the whole keyspace), checked with `etcdutl snapshot status` before it is
 * stored, and checked the same way again by `backup verify`: hash, revision and key count must
 * be the ones recorded. etcdutl ships in Debian 13's etcd-client (the lab image has it); the
 * status subcommand of etcdctl is deprecated in 3.5.
 */
import { z } from "zod";
import { parseToolJson, parseToolOutput } from "../../hostkit/command.ts";
import { endpointHealth, endpointStatus } from "../../hostkit/etcd.ts";
import { ETCD_CLIENT_PORT } from "../../services/etcd/settings.ts";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import type { Transport } from "../../transport/types.ts";
import type { Finding } from "./content.ts";
import { type EtcdExtra, EXTRA_NAMES } from "./extras-manifest.ts";
import { PRELUDE } from "./scripts.ts";

export const EtcdSnapshotStatus = z.object({
  hash: z.int().min(0),
  revision: z.int().min(0),
  totalKey: z.int().min(0),
  totalSize: z.int().min(0),
  version: z.string().default(""),
});
export type EtcdSnapshotStatus = z.output<typeof EtcdSnapshotStatus>;

export function etcdEndpoint(ip: string): string {
  return `http://${ip}:${ETCD_CLIENT_PORT}`;
}

/** Why this member should not give the snapshot, or undefined when it is healthy and sees a leader. */
export async function etcdUnfit(t: Transport, endpoint: string): Promise<string | undefined> {
  const health = await endpointHealth(t, [endpoint]);
  if (health !== true) return `etcd not healthy: ${health}`;
  const status = await endpointStatus(t, [endpoint]).catch((e: Error) => e);
  if (status instanceof Error) return `etcd status: ${status.message}`;
  if ((status[0]?.Status.leader ?? "0") === "0") return "etcd sees no leader";
  return undefined;
}

/** Saves the snapshot into `dir` and prints its `etcdutl snapshot status -w json` (one line). */
export function etcdSnapshotScript(dir: string, endpoint: string): string {
  const file = q(`${dir}/${EXTRA_NAMES.etcd}`);
  const log = q(`${dir}/etcd-snapshot.log`);
  return [
    PRELUDE,
    `mkdir -p ${q(dir)}`,
    `rm -f ${file}`,
    `if ! timeout 600 etcdctl --endpoints=${q(endpoint)} snapshot save ${file} > ${log} 2>&1; then`,
    `  echo "etcdctl snapshot save failed:" >&2; tail -n 3 ${log} >&2; exit 1`,
    "fi",
    etcdStatusLine(file, log),
  ].join("\n");
}

/** `etcdutl snapshot status` of a saved snapshot: verify's check on the fetched file (its own words on stderr). */
export function etcdStatusArgv(file: string): string[] {
  return ["etcdutl", "snapshot", "status", file, "-w", "json"];
}

function etcdStatusLine(file: string, log: string): string {
  return `etcdutl snapshot status ${file} -w json 2> ${log} || { echo "etcdutl snapshot status failed:" >&2; tail -n 3 ${log} >&2; exit 1; }`;
}

export function parseSnapshotStatus(t: Pick<Transport, "name">, stdout: string): EtcdSnapshotStatus {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return parseToolOutput(t, "etcdutl snapshot status", EtcdSnapshotStatus, parseToolJson(t, "etcdutl", line));
}

/** The manifest's record of a snapshot from its status. */
export function etcdRecord(s: EtcdSnapshotStatus): EtcdExtra["etcd"] {
  return { hash: s.hash, revision: s.revision, totalKey: s.totalKey, version: s.version };
}

/** verify's finding: the fetched snapshot's status against the manifest's. */
export function compareSnapshot(extra: EtcdExtra, got: EtcdSnapshotStatus): Finding {
  const want = extra.etcd;
  const diffs = (["hash", "revision", "totalKey"] as const)
    .filter((k) => want[k] !== got[k])
    .map((k) => `${k} ${got[k]}, recorded ${want[k]}`);
  return diffs.length === 0
    ? {
        ok: true,
        check: "etcd snapshot",
        detail: `etcdutl snapshot status: revision ${got.revision}, ${got.totalKey} keys, hash ${got.hash} as recorded`,
      }
    : { ok: false, check: "etcd snapshot", detail: diffs.join("; ") };
}
