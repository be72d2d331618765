import type { ProbeResult } from "../../health/types.ts";
import type { Transport } from "../../transport/types.ts";
import { lastLine } from "../../util/text.ts";

export const PROBE_POOL = "volumes";

/**
 * A real RBD write and read: 4 MiB of random bytes imported into an image, exported back and
 * compared, then removed. A cluster can say HEALTH_OK while I/O hangs (all PGs of a pool on a
 * frozen OSD); only doing I/O proves it flows.
 */
export function rbdRoundTripScript(pool: string): string {
  return `set -e
img=${pool}/hastack-probe-$(hostname)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
timeout 20 rbd rm --no-progress "$img" >/dev/null 2>&1 || true
head -c 4194304 /dev/urandom > "$tmp"
a=$(sha256sum < "$tmp")
start=$(date +%s%N)
timeout 40 rbd import --no-progress "$tmp" "$img" >/dev/null
mid=$(date +%s%N)
b=$(timeout 40 rbd export --no-progress "$img" - | sha256sum)
end=$(date +%s%N)
timeout 20 rbd rm --no-progress "$img" >/dev/null 2>&1
[ "$a" = "$b" ] || { echo "read back differs from what was written" >&2; exit 3; }
echo "write_ms=$(( (mid - start) / 1000000 )) read_ms=$(( (end - mid) / 1000000 ))"`;
}

export async function rbdRoundTrip(t: Transport, pool = PROBE_POOL): Promise<ProbeResult> {
  const r = await t.exec(["bash", "-c", rbdRoundTripScript(pool)], { timeoutMs: 55_000 });
  if (r.code !== 0)
    return { state: "down", summary: `RBD round trip in ${pool} failed: ${lastLine(r.stderr || r.stdout)}` };
  const m = /write_ms=(\d+) read_ms=(\d+)/.exec(r.stdout);
  const write = Number(m?.[1] ?? 0);
  const read = Number(m?.[2] ?? 0);
  return {
    state: "ok",
    summary: `4 MiB written and read back identical in ${pool} (write ${write} ms, read ${read} ms)`,
    details: { pool, writeMs: write, readMs: read },
  };
}
