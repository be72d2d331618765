import { describe, expect, it } from "vitest";
import { explainPgState, pgStateHealth } from "./pg-states.ts";

describe("PG states as the status screen weighs them", () => {
  it("takes active+clean, with routine scrubs and trims, as healthy", () => {
    for (const s of [
      "active+clean",
      "active+clean+scrubbing",
      "active+clean+scrubbing+deep",
      "active+clean+snaptrim",
    ])
      expect(pgStateHealth(s)).toBe("ok");
  });

  it("keeps serving PGs degraded and PGs without client I/O down", () => {
    expect(pgStateHealth("active+undersized+degraded")).toBe("degraded");
    expect(pgStateHealth("active+recovering+degraded")).toBe("degraded");
    expect(pgStateHealth("active+remapped+backfilling")).toBe("degraded");
    expect(pgStateHealth("undersized+degraded+peered")).toBe("down");
    expect(pgStateHealth("stale+active+clean")).toBe("down");
    expect(pgStateHealth("peering")).toBe("down");
    expect(pgStateHealth("unknown")).toBe("down");
  });

  it("says what each part means, in the book's words", () => {
    expect(explainPgState("active+undersized+degraded")).toBe(
      "undersized: fewer OSDs in its acting set than the pool's size; degraded: fewer copies than size; I/O continues while copies >= min_size",
    );
    expect(explainPgState("undersized+degraded+peered")).toMatch(
      /^inactive: cannot serve I\/O; .*peered: peered but below min_size: no client I\/O$/,
    );
  });
});
