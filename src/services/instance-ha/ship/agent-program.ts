import type { Topology } from "../../../topology/types.ts";
import type { StepSpec } from "../../types.ts";
import { AGENT_PACKAGES, AGENT_SOURCES, AGENT_UNIT } from "../agent-files.ts";
import { agentKeyStep } from "./key-step.ts";
import { nodeStep } from "./node-step.ts";
import { type ProgramSpec, programSteps } from "./program-step.ts";

/** The agent as agent-files.ts lays it out: AGENT_MAIN is under `dir`, the unit runs NODE_BIN. */
export const AGENT_PROGRAM: ProgramSpec = {
  id: "agent",
  title: "ship the instance-HA agent to the computes",
  hosts: (topology) => topology.roles.compute,
  dir: "/opt/hastack/agent",
  sources: AGENT_SOURCES,
  packages: AGENT_PACKAGES,
  units: [AGENT_UNIT],
};

/**
 * Node once for every program's hosts, each program, then the agent keys: the steps a service
 * shipping `programs` includes (the engine's spec is the lead's to add beside the agent's).
 */
export function shipSteps(topology: Topology, programs: readonly ProgramSpec[]): StepSpec[] {
  const hosts = [...new Set(programs.flatMap((p) => p.hosts(topology)))].sort();
  return [
    nodeStep(hosts),
    ...programs.flatMap((p) => programSteps(p, topology)),
    ...(programs.includes(AGENT_PROGRAM) ? [agentKeyStep(AGENT_PROGRAM.hosts(topology))] : []),
  ];
}
