import { describe, expect, it } from "vitest";
import { longestStall } from "./io-stall.ts";

describe("the I/O stall of a writer's acknowledged writes", () => {
  it("is the longest gap between two acks, less the writer's own 50 ms pause", () => {
    // Writes every ~52 ms, then nothing for 14.2 s (an OSD host lost), then steady again.
    const acks = [1000.0, 1000.052, 1000.104, 1014.354, 1014.406, 1014.458];
    const stall = longestStall(acks.map((t) => t.toFixed(3)).join("\n"));
    expect(stall).toEqual({ stallMs: 14200, atMs: 1000104, writes: 6 });
  });

  it("ignores lines that are not timestamps and says 0 for a steady writer", () => {
    expect(longestStall("1000.000\nwarning: something\n1000.051\n\n")).toEqual({
      stallMs: 1,
      atMs: 1000000,
      writes: 2,
    });
    expect(longestStall("")).toEqual({ stallMs: 0, atMs: 0, writes: 0 });
  });
});
