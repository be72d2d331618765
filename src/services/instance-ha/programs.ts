import { fileURLToPath } from "node:url";
import { buildReceiver } from "../../instance-ha/native/build.ts";
import { programFiles } from "../../util/import-graph.ts";
import { controllerNames } from "../hosts.ts";
import { ENGINE_DIR, ENGINE_ENTRY, ENGINE_RECEIVER_PATH } from "./engine-files.ts";
import { AGENT_PROGRAM } from "./ship/agent-program.ts";
import type { ProgramSpec } from "./ship/program-step.ts";

const SRC = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The engine's program: every file its main loads and their packages, read from the sources when
 * a plan is made (so a new import is shipped without a list to keep up to date). No unit to
 * restart: Pacemaker runs it, and the engine-running step restarts it through Pacemaker.
 */
export function engineProgram(): ProgramSpec {
  const { sources, packages } = programFiles(SRC, ENGINE_ENTRY);
  return {
    id: "engine",
    title: "ship the instance-HA engine to the controllers",
    hosts: controllerNames,
    dir: ENGINE_DIR,
    sources,
    packages,
    units: [],
    entries: [ENGINE_ENTRY],
    // Built here, never on a controller: they get a binary, not a compiler (native/build.ts).
    built: [{ path: ENGINE_RECEIVER_PATH, mode: 0o755, build: async () => (await buildReceiver()).data }],
  };
}

/** What instance HA ships: the agent to the computes, the engine to the controllers. */
export function enginePrograms(): ProgramSpec[] {
  return [AGENT_PROGRAM, engineProgram()];
}
