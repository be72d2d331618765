/**
 * @module
 * The storage fence: a compute whose BMC died with it is cut off from Ceph instead of powered
 * off. Each of its storage-network addresses goes into the OSD map's blocklist, so no client on
 * it (its qemu's librbd, its nova-compute) can ever read or write an RBD image again, whatever
 * state the host is in; when it is back after a reboot the entries are lifted.
 *
 * What Ceph 18 does with an entry, read in its source (src/osd/OSDMap.cc,
 * `OSDMap::is_blocklisted`): a client's address matches an entry when it is the very instance
 * (`ip:port/nonce`), or when the entry is the bare IP, stored as `ip:0/0` ("is entire ip
 * blocklisted?": port and nonce set to 0 and looked up again), or when it falls in a range
 * (`ceph osd blocklist range add`). So `ceph osd blocklist add 10.21.0.41 <seconds>` blocks every
 * client of that IP, present and future: the compute's clients reconnect with new nonces, so
 * blocking the instances we could see would not do. The add returns once the monitors have
 * committed the new OSD map epoch; an OSD serving a newer client (the evacuated VM's) gets at
 * least that epoch first, so the old client's writes are refused before the new one's land.
 *
 * Measured on Ceph 18.2.7 (a single monitor in a lab-image container): `ls --format json` prints
 * two JSON arrays back to back, the blocklist and then the range blocklist
 * (`[{"addr":"10.0.0.5:0/0","until":"2026-12-03T16:51:29.805953+0000"}][]`); a bare IP is listed
 * as `ip:0/0`; `rm` of an address that is not listed exits 0 ("isn't blocklisted").
 */
import { z } from "zod";
import { parseToolOutput, runTool } from "../hostkit/command.ts";
import { type CephCallOptions, cephArgv } from "../services/ceph/ceph-tool.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";

/** Where `ceph` runs (a controller, through its Transport) and as whom. */
export interface StorageFenceDeps {
  /** Runs `ceph` on a host that has the cluster's config and the identity's keyring. */
  runner: Pick<Transport, "name" | "exec">;
  /** The cephx identity (`client.admin`, or a client allowed `osd blocklist`); default: ceph's own. */
  id?: CephCallOptions["id"];
  /**
   * Seconds an entry lasts. Lifting is the engine's job when the host is back; the expiry only
   * cleans up after an engine that never came back to it, and must outlast any hang a host could
   * wake up from without a reboot. @default 2_592_000 (30 days)
   */
  expireSeconds?: number;
  /** Per `ceph` call, connect included. @default 30_000 */
  timeoutMs?: number;
}

export const DEFAULT_BLOCKLIST_EXPIRE_S = 30 * 24 * 3600;

const Ipv4 = z.ipv4();

/** One entry of `ceph osd blocklist ls`: `ip:port/nonce` and when it expires. */
const BlocklistEntry = z.object({ addr: z.string(), until: z.string() });
const BlocklistLs = z.array(BlocklistEntry);
export type BlocklistEntry = z.output<typeof BlocklistEntry>;

/** What a confirmed add or removal found in the read-back. */
export interface BlocklistConfirmation {
  /** The addresses as given, each a bare IP. */
  addresses: string[];
  /** The matching entries of the read-back (empty after a removal). */
  entries: BlocklistEntry[];
  ms: number;
}

function checkAddresses(host: string, addresses: readonly string[], what: string): string[] {
  if (addresses.length === 0) {
    throw new HastackError("E_HA_STORAGE_ADDRESS", `Cannot ${what} of ${host}: it has no storage address`);
  }
  const bad = addresses.filter((a) => !Ipv4.safeParse(a).success);
  if (bad.length > 0) {
    throw new HastackError(
      "E_HA_STORAGE_ADDRESS",
      `Cannot ${what} of ${host}: not an IPv4 address: ${bad.join(", ")}`,
      { hint: "the storage fence blocks the compute's storage-network IPv4 addresses" },
    );
  }
  return [...new Set(addresses)];
}

function call(deps: StorageFenceDeps, what: string, args: string[]) {
  const opts: CephCallOptions = deps.id ? { id: deps.id } : {};
  return runTool(deps.runner, "E_CEPH", what, cephArgv(args, opts), {
    timeoutMs: deps.timeoutMs ?? 30_000,
  });
}

/**
 * The top-level JSON values of a text, in order: Ceph 18 prints the blocklist and the range
 * blocklist as two arrays with nothing between them, which JSON.parse refuses.
 */
export function splitJsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

/** `ceph osd blocklist ls --format json`: the entries of the (non-range) blocklist. */
export function parseBlocklist(runner: Pick<Transport, "name">, stdout: string): BlocklistEntry[] {
  const tool = "ceph osd blocklist ls";
  let values: unknown[];
  try {
    values = splitJsonValues(stdout);
  } catch {
    values = [];
  }
  if (values.length === 0) {
    throw new HastackError("E_TOOL_OUTPUT", `Cannot read ${tool}'s answer on ${runner.name}: no JSON array`);
  }
  return parseToolOutput(runner, tool, BlocklistLs, values[0]);
}

/** The entry that blocks every client of `ip` (`ip:0/0`), if listed. */
export function wholeIpEntry(entries: readonly BlocklistEntry[], ip: string): BlocklistEntry | undefined {
  return entries.find((e) => e.addr === `${ip}:0/0`);
}

export async function readBlocklist(deps: StorageFenceDeps): Promise<BlocklistEntry[]> {
  const r = await call(deps, "read the OSD blocklist", ["osd", "blocklist", "ls", "--format", "json"]);
  return parseBlocklist(deps.runner, r.stdout);
}

/**
 * Blocklists every address of `host` and confirms each one is listed as a whole-IP entry in a
 * read-back; throws (E_CEPH, E_HA_STORAGE_ADDRESS, E_HA_BLOCKLIST_UNCONFIRMED) otherwise.
 */
export async function blocklistHost(
  host: string,
  addresses: readonly string[],
  deps: StorageFenceDeps,
): Promise<BlocklistConfirmation> {
  const started = performance.now();
  const ips = checkAddresses(host, addresses, "fence the storage");
  const expire = String(deps.expireSeconds ?? DEFAULT_BLOCKLIST_EXPIRE_S);
  for (const ip of ips)
    await call(deps, `blocklist ${ip} (${host})`, ["osd", "blocklist", "add", ip, expire]);
  const listed = await readBlocklist(deps);
  const entries = ips.map((ip) => wholeIpEntry(listed, ip));
  const missing = ips.filter((_, i) => entries[i] === undefined);
  if (missing.length > 0) {
    throw new HastackError(
      "E_HA_BLOCKLIST_UNCONFIRMED",
      `Cannot fence the storage of ${host}: ${missing.join(", ")} not in the OSD blocklist after adding`,
    );
  }
  return {
    addresses: ips,
    entries: entries.filter((e) => e !== undefined),
    ms: Math.round(performance.now() - started),
  };
}

/**
 * Lifts the storage fence of a host that is back (issue #10 item 6): removes each address and
 * confirms none is listed any more. Removing an address that is not listed is no error (Ceph
 * exits 0), so a second lift after a lost answer is harmless.
 */
export async function liftStorageFence(
  host: string,
  addresses: readonly string[],
  deps: StorageFenceDeps,
): Promise<BlocklistConfirmation> {
  const started = performance.now();
  const ips = checkAddresses(host, addresses, "lift the storage fence");
  for (const ip of ips) await call(deps, `un-blocklist ${ip} (${host})`, ["osd", "blocklist", "rm", ip]);
  const listed = await readBlocklist(deps);
  const still = ips.filter((ip) => wholeIpEntry(listed, ip) !== undefined);
  if (still.length > 0) {
    throw new HastackError(
      "E_HA_BLOCKLIST_UNCONFIRMED",
      `Cannot lift the storage fence of ${host}: ${still.join(", ")} still in the OSD blocklist after removing`,
    );
  }
  return { addresses: ips, entries: [], ms: Math.round(performance.now() - started) };
}
