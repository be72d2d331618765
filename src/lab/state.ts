import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import { labDir } from "./paths.ts";
import { type LabPlan, planLab } from "./plan.ts";

/** What `lab up` recorded: enough for every other lab command to rebuild the plan. */
const LabState = z.object({
  size: z.object({ controllers: z.int(), computes: z.int(), storage: z.int() }),
  image: z.string(),
  started: z.string(),
});
export type LabState = z.infer<typeof LabState>;

export function statePath(): string {
  return path.join(labDir(), "state.json");
}

export async function readState(): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(statePath(), "utf8");
  } catch {
    return undefined;
  }
  const parsed = LabState.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

export async function writeState(state: LabState): Promise<void> {
  await fs.writeFile(statePath(), `${JSON.stringify(state, null, 2)}\n`);
}

export async function requirePlan(): Promise<LabPlan> {
  const state = await readState();
  if (!state) {
    throw new HastackError("E_LAB_DOWN", `Cannot find a running lab: there is no lab state in ${labDir()}`, {
      hint: "run `hastack lab up` first",
    });
  }
  return planLab(state.size);
}
