/**
 * @module
 * Waiting for a Ceph cluster to get somewhere (OSDs down or up, every PG active+clean, a monitor
 * back in the quorum), shared by maintenance, replace-osd and the restart after a ceph.conf
 * change. A wait that runs out names what was still wrong, not only that time ran out.
 */
import type { Transport } from "../../transport/types.ts";
import type { ErrorCode } from "../../util/error-codes.ts";
import { HastackError } from "../../util/errors.ts";
import { cephJson } from "./ceph-tool.ts";
import { pgStateHealth } from "./pg-states.ts";
import { OsdTree, QuorumStatus, Status } from "./schemas.ts";

export interface WaitIo {
  log(line: string): void;
  signal?: AbortSignal;
}

/** Polls `probe` (true, or why not yet) until true; throws `code` with the last answer after `timeoutMs`. */
export async function waitFor(
  io: WaitIo,
  code: ErrorCode,
  what: string,
  probe: () => Promise<true | string>,
  timeoutMs: number,
  intervalMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (io.signal?.aborted) break;
    const answer = await probe().catch((e: Error) => e.message);
    if (answer === true) return;
    if (answer !== last) io.log(`waiting to ${what}: ${answer}`);
    last = answer;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new HastackError(code, `Cannot ${what}: still not there after ${timeoutMs / 1000} s: ${last}`);
}

/** True when every PG is active+clean, else the states that are not ("3 active+undersized+degraded"). */
export async function allClean(admin: Transport): Promise<true | string> {
  const st = await cephJson(admin, ["status"], Status, { connectTimeoutS: 5 });
  const unclean = st.pgmap.pgs_by_state.filter((p) => pgStateHealth(p.state_name) !== "ok");
  if (st.pgmap.num_pgs > 0 && unclean.length === 0) return true;
  return unclean.map((p) => `${p.count} ${p.state_name}`).join(", ") || "no PGs reported yet";
}

/** True when Ceph says HEALTH_OK, else its status and the names of its checks. */
export async function healthOk(admin: Transport): Promise<true | string> {
  const st = await cephJson(admin, ["status"], Status, { connectTimeoutS: 5 });
  if (st.health.status === "HEALTH_OK") return true;
  return `${st.health.status}: ${Object.keys(st.health.checks).join(", ")}`;
}

/** True when each of `ids` is `want` (up or down) in the OSD map. */
export async function osdsAre(
  admin: Transport,
  ids: readonly number[],
  want: "up" | "down",
): Promise<true | string> {
  const tree = await cephJson(admin, ["osd", "tree"], OsdTree, { connectTimeoutS: 5 });
  const wrong = ids.filter((id) => {
    const n = tree.nodes.find((x) => x.id === id);
    return (n?.status ?? "down") !== want;
  });
  return wrong.length === 0 ? true : `${wrong.map((i) => `osd.${i}`).join(", ")} not ${want} yet`;
}

/** True when every monitor of the map is in the quorum. */
export async function fullQuorum(admin: Transport): Promise<true | string> {
  const q = await cephJson(admin, ["quorum_status"], QuorumStatus, { connectTimeoutS: 5 });
  const out = q.monmap.mons.map((m) => m.name).filter((n) => !q.quorum_names.includes(n));
  return out.length === 0 ? true : `not in quorum: ${out.join(", ")}`;
}
