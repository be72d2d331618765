import { describe, expect, it } from "vitest";
import { toPrune } from "./retention.ts";

const ids = ["20261201T000000Z", "20261202T000000Z", "20261203T000000Z", "20261204T000000Z"];

describe("retention", () => {
  it("keeps the newest `keep` complete backups, the current one always among them", () => {
    expect(toPrune({ complete: ids, incomplete: [] }, 2, "20261204T000000Z")).toEqual([
      "20261201T000000Z",
      "20261202T000000Z",
    ]);
    expect(toPrune({ complete: ids, incomplete: [] }, 7, "20261204T000000Z")).toEqual([]);
    // A clock that went back: the run that just completed is still kept.
    expect(toPrune({ complete: ids, incomplete: [] }, 1, "20261202T000000Z")).toEqual([
      "20261201T000000Z",
      "20261203T000000Z",
      "20261204T000000Z",
    ]);
  });

  it("deletes older incomplete runs' parts, never a newer one (it may be running)", () => {
    const stored = { complete: ids.slice(0, 3), incomplete: ["20261202T120000Z", "20261205T000000Z"] };
    expect(toPrune(stored, 3, "20261203T000000Z")).toEqual(["20261202T120000Z"]);
    expect(() => toPrune(stored, 0, "20261203T000000Z")).toThrow("keep must be at least 1");
  });
});
