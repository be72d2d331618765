import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { drillById, drills } from "./catalog.ts";

describe("drill names", () => {
  it("finds a drill by its name", () => {
    expect(drillById("fence-check").id).toBe("fence-check");
  });

  it("refuses an unknown name, listing every valid one", () => {
    let error: unknown;
    try {
      drillById("nosuchdrill");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HastackError);
    expect((error as HastackError).code).toBe("E_DRILL_UNKNOWN");
    for (const d of drills) expect((error as HastackError).message).toContain(d.id);
    expect((error as HastackError).message).toContain("'nosuchdrill'");
  });
});
