/**
 * @module
 * The storage drills' client: it writes 4 KiB to an RBD image every 50 ms (as a VM's disk would,
 * with Nova's key on a compute) while a fault lands, and the longest gap between two acknowledged
 * writes is the I/O stall the guests feel. At the end it reads every block back: an acknowledged
 * write that reads back different is lost data, whatever the stall. Ceph answers with
 * osd_heartbeat_grace + reporting (~28 s with defaults, ~14 s with grace 10 / interval 2 in the
 * lab notes). After power-on, the time to every PG active+clean is the recovery.
 */
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { cephJson } from "./ceph-tool.ts";
import { pgStateHealth } from "./pg-states.ts";
import { Status } from "./schemas.ts";

/** The writer: prints the wall-clock time of every acknowledged write; librados waits for as long as it takes. */
export const WRITER = `
import hashlib, sys, time, rados, rbd
user, keyring, pool, name, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
cluster = rados.Rados(conffile="/etc/ceph/ceph.conf", rados_id=user, conf={"keyring": keyring})
cluster.connect(timeout=20)
io = cluster.open_ioctx(pool)
rbd.RBD().create(io, name, 64 << 20)
img = rbd.Image(io, name)
def block(i):
    return hashlib.sha256(b"%s:%d" % (name.encode(), i)).digest() * 128
end = time.monotonic() + seconds
last = {}
i = 0
while time.monotonic() < end:
    off = (i % 16384) * 4096
    img.write(block(i), off)
    last[off] = i
    print("%.3f" % time.time(), flush=True)
    i += 1
    time.sleep(0.05)
bad = sum(1 for off, j in last.items() if img.read(off, 4096) != block(j))
print("verified %d %d" % (len(last), bad), flush=True)
img.close()
rbd.RBD().remove(io, name)
io.close()
cluster.shutdown()
`;

export interface Stall {
  /** Longest time between two acknowledged writes, minus the writer's own 50 ms pause. */
  stallMs: number;
  /** When the longest gap began (epoch ms). */
  atMs: number;
  writes: number;
}

/** The longest gap in a writer's timestamps (seconds, one a line). */
export function longestStall(output: string, pauseMs = 50): Stall {
  const times = output
    .split("\n")
    .map((l) => Number(l.trim()) * 1000)
    .filter((t) => Number.isFinite(t) && t > 0);
  let stall = 0;
  let at = times[0] ?? 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number) - pauseMs;
    if (gap > stall) {
      stall = gap;
      at = times[i - 1] as number;
    }
  }
  return { stallMs: Math.max(0, Math.round(stall)), atMs: Math.round(at), writes: times.length };
}

/** The writer's last line: blocks read back and how many differ from what was acknowledged. */
export function parseVerified(output: string): { checked: number; lost: number } | undefined {
  const m = /^verified (\d+) (\d+)$/m.exec(output);
  return m ? { checked: Number(m[1]), lost: Number(m[2]) } : undefined;
}

export interface WriterResult extends Stall {
  /** Undefined when the writer never got to read back (it failed before). */
  verified?: { checked: number; lost: number };
}

export interface WriterHandle {
  done: Promise<WriterResult>;
}

/** Starts the writer on a client host for `seconds`; resolves with its longest stall when it ends. */
export function startWriter(
  client: Transport,
  who: { user: string; keyring: string; pool: string },
  seconds: number,
): WriterHandle {
  const name = `hastack-stall-${Date.now().toString(36)}`;
  const run = client.exec(["python3", "-", who.user, who.keyring, who.pool, name, String(seconds)], {
    stdin: WRITER,
    timeoutMs: (seconds + 300) * 1000,
  });
  return {
    done: run.then((r) => {
      if (r.code !== 0)
        throw new HastackError(
          "E_CEPH",
          `Cannot keep writing to RBD on ${client.name}: exit code ${r.code}: ${r.stderr.trim().split("\n").pop()}`,
        );
      return { ...longestStall(r.stdout), verified: parseVerified(r.stdout) };
    }),
  };
}

export interface Recovery {
  /** From `since` to every PG active+clean; undefined when it did not happen in time. */
  cleanMs?: number;
  /** From `since` to HEALTH_OK. */
  healthOkMs?: number;
  /** Ceph's last words when HEALTH_OK never came. */
  last: string;
}

/** Polls `ceph status` every second until HEALTH_OK or `timeoutMs`, noting when PGs got clean. */
export async function recoveryTimes(admin: Transport, since: number, timeoutMs: number): Promise<Recovery> {
  const out: Recovery = { last: "" };
  while (Date.now() - since < timeoutMs) {
    const st = await cephJson(admin, ["status"], Status, { connectTimeoutS: 5 }).catch(
      (e: Error) => e.message,
    );
    if (typeof st === "string") out.last = st;
    else {
      const clean =
        st.pgmap.num_pgs > 0 && st.pgmap.pgs_by_state.every((p) => pgStateHealth(p.state_name) === "ok");
      if (clean && out.cleanMs === undefined) out.cleanMs = Date.now() - since;
      if (clean && st.health.status === "HEALTH_OK") {
        out.healthOkMs = Date.now() - since;
        return out;
      }
      out.last = `${st.health.status} ${Object.keys(st.health.checks).join(", ")}`.trim();
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return out;
}
