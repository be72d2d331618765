import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readMemcachedReply } from "./health.ts";

// A real memcached 1.6's answer to the probe's request (set "abcde", get, stats, quit), captured
// from the lab image through socat by src/hostkit/fixtures/capture.ts.
const reply = readFileSync(
  new URL("../../hostkit/fixtures/memcached-set-get-stats.txt", import.meta.url),
  "utf8",
);

describe("memcached probe reply", () => {
  it("finds the stored value and the stats", () => {
    const r = readMemcachedReply(reply, "abcde");
    expect(r.ok).toBe(true);
    expect(Number(r.items)).toBeGreaterThanOrEqual(1);
    expect(r.bytes).toBeGreaterThan(0);
  });

  it("does not take another value for the token", () => {
    expect(readMemcachedReply(reply, "zzzzz").ok).toBe(false);
    expect(readMemcachedReply(reply.replace("STORED\r\n", "NOT_STORED\r\n"), "abcde").ok).toBe(false);
  });
});
