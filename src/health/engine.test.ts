import { describe, expect, it } from "vitest";
import type { ServiceDef } from "../services/types.ts";
import { parseInventory } from "../testing/fixtures.ts";
import { resolveTopology } from "../topology/resolve.ts";
import { LocalTransport } from "../transport/local-transport.ts";
import { collectStatus, exitCodeOf } from "./engine.ts";
import { formatStatus } from "./screen.ts";
import type { ProbeContext } from "./types.ts";

const topology = resolveTopology(
  parseInventory({
    cluster: "t",
    release: "2025.1",
    platform: "debian-13",
    networks: { management: { cidr: "10.20.0.0/24" } },
    vips: { internal: "10.20.0.10" },
    hosts: Object.fromEntries(
      ["a", "b", "c"].map((n, i) => [
        n,
        { roles: ["controller"], addresses: { management: `10.20.0.${11 + i}` } },
      ]),
    ),
  }),
  { source: "/tmp/t.yaml", services: [] },
);

/** Every host is this machine: probes run real commands through the local transport. */
const local = new LocalTransport();

function service(id: string, failOn: string[], weight: "critical" | "redundant", slowMs = 0): ServiceDef {
  return {
    id,
    title: id,
    state: "implemented",
    hosts: (t) => t.roles.controller,
    health: () => [
      {
        id: "probe",
        title: `${id} probe`,
        on: "each",
        weight,
        timeoutMs: 500,
        async run(ctx: ProbeContext) {
          const host = ctx.host?.name ?? "";
          const command = failOn.includes(host)
            ? ["sh", "-c", "echo broken >&2; exit 3"]
            : ["sleep", String(slowMs / 1000)];
          const result = await ctx.exec(host, command);
          return result.code === 0
            ? { state: "ok", summary: "fine" }
            : { state: "down", summary: result.stderr.trim() };
        },
      },
    ],
  };
}

async function status(...list: ServiceDef[]) {
  return collectStatus(topology, { transport: () => local, secrets: {}, services: list });
}

describe("status engine", () => {
  it("is healthy (exit 0) when every probe is ok", async () => {
    const report = await status(service("x", [], "redundant"));
    expect(report.checks).toHaveLength(3);
    expect(report.verdict).toBe("healthy");
    expect(exitCodeOf(report)).toBe(0);
  });

  it("names a declared service as not implemented: it runs no probe and counts as no check", async () => {
    const declared: ServiceDef = { ...service("y", ["a", "b", "c"], "critical"), state: "declared" };
    const report = await status(service("x", [], "redundant"), declared);
    expect(report.checks.map((c) => c.service)).toEqual(["x", "x", "x"]);
    expect(report.notImplemented).toEqual(["y"]);
    expect(report.headline).toBe("healthy: 3 checks ok; not implemented: y");
    expect(formatStatus(report)).toContain(
      "not implemented (declared only: not deployed, not checked)\n  --   y",
    );
  });

  it("is degraded (exit 1) when one of three redundant nodes fails, and names it", async () => {
    const report = await status(service("x", ["b"], "redundant"));
    expect(report.verdict).toBe("degraded");
    expect(report.headline).toContain("x.probe@b");
    expect(report.checks.find((c) => c.host === "b")?.summary).toBe("broken");
    expect(exitCodeOf(report)).toBe(1);
  });

  it("is down (exit 2) when a critical probe fails or every redundant one does", async () => {
    expect((await status(service("x", ["a"], "critical"))).verdict).toBe("down");
    expect((await status(service("x", ["a", "b", "c"], "redundant"))).verdict).toBe("down");
  });

  it("turns a probe that hangs into a down check instead of hanging status", async () => {
    const report = await status(service("slow", [], "redundant", 5000));
    expect(report.checks.every((c) => c.state === "down" && c.summary.includes("500 ms, twice"))).toBe(true);
  });

  it("asks a probe that timed out once more, after the others: an answer then is ok, with a warning", async () => {
    // Host b's first answer takes 2 s (past the 500 ms), its second comes at once: a probe slow in
    // the burst of a status on a busy controller, not a dead one.
    const attempts = new Map<string, number>();
    const flaky: ServiceDef = {
      ...service("f", [], "redundant"),
      health: () => [
        {
          id: "probe",
          title: "slow once on b",
          on: "each",
          weight: "redundant",
          timeoutMs: 500,
          async run(ctx: ProbeContext) {
            const host = ctx.host?.name ?? "";
            const n = (attempts.get(host) ?? 0) + 1;
            attempts.set(host, n);
            await ctx.exec(host, ["sleep", host === "b" && n === 1 ? "2" : "0"]);
            return { state: "ok", summary: `answered on attempt ${n}` };
          },
        },
      ],
    };
    const report = await status(flaky);
    expect(Object.fromEntries(attempts)).toEqual({ a: 1, b: 2, c: 1 });
    expect(report.verdict).toBe("healthy");
    expect(report.checks.find((c) => c.host === "b")?.summary).toBe("answered on attempt 2");
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /^f\.probe@b: slow: no answer within 500 ms on the first attempt, answered in \d+\.\d s on the second$/,
      ),
    ]);
  });
  it("gives every probe of one run the same shared answer, made once, and a new run a new one", async () => {
    let made = 0;
    const sharing: ServiceDef = {
      ...service("s", [], "redundant"),
      health: () => [
        {
          id: "shared",
          title: "one login for all",
          on: "each",
          weight: "redundant",
          async run(ctx: ProbeContext) {
            const answer = await ctx.shared("login", async () => {
              made += 1;
              return (await ctx.exec(ctx.host?.name ?? "", ["sh", "-c", "echo $$"])).stdout.trim();
            });
            return { state: "ok", summary: answer };
          },
        },
      ],
    };
    const first = await status(sharing);
    expect(made).toBe(1);
    expect(new Set(first.checks.map((c) => c.summary)).size).toBe(1);
    const second = await status(sharing);
    expect(made).toBe(2);
    expect(second.checks[0]?.summary).not.toBe(first.checks[0]?.summary);
  });
});
