import { inventorySchemaFor } from "../inventory/assemble.ts";
import { checkInventory } from "../inventory/checks.ts";
import { loadInventory, type SourceDoc } from "../inventory/load.ts";
import { checkListens } from "../services/listens-check.ts";
import { type RenderResult, renderTopology } from "../services/render.ts";
import type { ServiceDef } from "../services/types.ts";
import { InventoryError, type Problem } from "../util/errors.ts";
import { resolveTopology } from "./resolve.ts";
import type { Topology } from "./types.ts";

export interface Validated {
  problems: Problem[];
  topology?: Topology;
  render?: RenderResult;
}

/**
 * The whole check of an inventory: YAML syntax, schema, semantics, port collisions and
 * overrides (which need a render). Every problem is collected, none thrown.
 */
export async function validateInventory(file: string, services: readonly ServiceDef[]): Promise<Validated> {
  const loaded = await loadInventory(file, inventorySchemaFor(services));
  if (!loaded.ok) {
    if (!loaded.partial) return { problems: loaded.problems };
    const { inventory, source } = loaded.partial;
    return { problems: [...loaded.problems, ...checkInventory(inventory, source, services)] };
  }
  const { inventory, source } = loaded.value;
  const problems = checkInventory(inventory, source, services);
  // Resolution assumes a sane address plan; stop here if the inventory has none.
  if (problems.some((p) => p.code === "E_HOST_NO_MANAGEMENT")) return { problems };
  const topology = resolveTopology(inventory, { source: source.file, services });
  const later = [...checkListens(topology, services)];
  const render = renderTopology(topology, services);
  later.push(...render.problems);
  problems.push(...later.map((p) => withPosition(p, source)));
  return { problems, topology, render };
}

/** A valid site: its topology, and the render its validation made (every host's files). */
export interface Site {
  topology: Topology;
  render: RenderResult;
}

/** Loads a valid topology or throws an InventoryError carrying every problem. */
export async function loadTopology(file: string, services: readonly ServiceDef[]): Promise<Topology> {
  return (await loadSite(file, services)).topology;
}

/**
 * loadTopology with the render validation made: a verb that needs every host's files uses it
 * rather than render the site a second time (0.5 s of `hastack plan` for 5,000 computes).
 */
export async function loadSite(file: string, services: readonly ServiceDef[]): Promise<Site> {
  const result = await validateInventory(file, services);
  if (result.problems.some((p) => p.severity === "error") || !result.topology || !result.render) {
    throw new InventoryError(result.problems);
  }
  return { topology: result.topology, render: result.render };
}

function withPosition(problem: Problem, source: SourceDoc): Problem {
  return problem.pos ? problem : { ...problem, pos: source.positionOf(problem.path) };
}
