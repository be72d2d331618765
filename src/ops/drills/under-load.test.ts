import { describe, expect, it } from "vitest";
import { drillById } from "./catalog.ts";
import { findings } from "./under-load.ts";

// The drill runs for real in the smoke e2e on the lab; here, how its results become its verdict.
const api = (name: string, requests = 40) => ({
  api: name,
  requests,
  errors: 0,
  downtimeMs: 0,
  firstErrors: [],
});

describe("controller-poweroff-under-load", () => {
  it("is in the catalogue, with a goal from the VIP's move and HAProxy's checks", () => {
    const drill = drillById("controller-poweroff-under-load");
    expect(drill.probe).toBe("sql-read");
  });

  it("fails on a server in ERROR or stuck in BUILD, and when nothing was measured", () => {
    expect(
      findings({ apis: [api("nova")], cycles: [{ name: "d-1", outcome: "deleted", detail: "id" }] }),
    ).toEqual([]);
    const bad = findings({
      apis: [api("nova"), api("glance", 0)],
      cycles: [
        { name: "d-1", outcome: "error", detail: "x went to ERROR" },
        { name: "d-2", outcome: "stuck", detail: "y still BUILD after 240 s" },
      ],
    });
    expect(bad.map((f) => f.message)).toEqual([
      "server d-1 ended in ERROR (x went to ERROR)",
      "server d-2 never became ACTIVE (y still BUILD after 240 s)",
      "no server was created, became ACTIVE and was deleted during the drill",
      "no request to the glance API finished",
    ]);
    expect(bad.every((f) => f.severity === "failed")).toBe(true);
  });
});
