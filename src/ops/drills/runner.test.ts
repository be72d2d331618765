import { describe, expect, it } from "vitest";
import { testTopology } from "../../deploy/test-fixtures.ts";
import type { TransportPool } from "../../transport/pool.ts";
import { HastackError } from "../../util/errors.ts";
import { runDrill } from "./runner.ts";
import type { DrillDef, FaultInjector } from "./types.ts";

describe("runDrill on a site that is not healthy", () => {
  it("refuses before probing or breaking anything, with the status's reason", async () => {
    const done: string[] = [];
    const drill: DrillDef = {
      id: "test-drill",
      title: "a drill that must not run",
      probe: "sql-read",
      goalMs: () => 1000,
      async prepare() {
        done.push("prepare");
      },
      async inject() {
        done.push("inject");
        return { target: "ctl1", action: "nothing", restore: async () => undefined };
      },
    };
    const refused = new HastackError(
      "E_DRILL_PRECONDITION",
      "Cannot start drill test-drill: the site is not healthy (waited 1 s): DOWN: keystone.token",
    );
    const error = await runDrill(
      drill,
      {
        topology: testTopology("/tmp", ["ctl1", "ctl2", "ctl3"]),
        // Neither is touched when the site is refused: no probe, no injector call.
        pool: undefined as unknown as TransportPool,
        secrets: {},
        injector: undefined as unknown as FaultInjector,
        log: (line) => done.push(line),
      },
      {
        healthyBefore: async () => {
          throw refused;
        },
        waitHealthy: async () => {
          done.push("waitHealthy");
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toBe(refused);
    expect(done).toEqual([]);
  });
});
