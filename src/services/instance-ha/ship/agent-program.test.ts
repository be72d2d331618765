import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../../testing/fixtures.ts";
import { AGENT_MAIN, AGENT_NODE } from "../agent-files.ts";
import { AGENT_PROGRAM, shipSteps } from "./agent-program.ts";
import { NODE_STEP } from "./node-step.ts";
import { NODE_BIN } from "./pinned-node.ts";
import type { ProgramSpec } from "./program-step.ts";

describe("the agent's program", () => {
  it("is where its unit looks: the main under the program's directory, run by the shipped Node", () => {
    expect(AGENT_MAIN.startsWith(`${AGENT_PROGRAM.dir}/`)).toBe(true);
    expect(AGENT_PROGRAM.sources).toContain(AGENT_MAIN.slice(AGENT_PROGRAM.dir.length + 1));
    expect(AGENT_NODE).toBe(NODE_BIN);
  });

  it("shares one Node step with another program, on the union of their hosts", () => {
    const topology = exampleTopology("lab");
    const engine: ProgramSpec = {
      ...AGENT_PROGRAM,
      id: "engine",
      dir: "/opt/hastack/engine",
      units: [],
      hosts: () => ["ctl1", "cmp1"],
    };

    const steps = shipSteps(topology, [AGENT_PROGRAM, engine]);

    expect(steps.map((s) => s.id)).toEqual([NODE_STEP, "agent", "engine", "agent-key"]);
    expect(steps[0]?.hosts).toEqual([...new Set([...topology.roles.compute, "ctl1"])].sort());
    expect(steps[1]?.after).toContain(NODE_STEP);
    expect(steps[3]?.hosts).toEqual(topology.roles.compute);
  });
});
