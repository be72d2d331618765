/**
 * @module
 * Nova's cell and host mappings read from the nova_api database on the bootstrap controller's
 * socket (the deploy's root login), for the checks: `nova-manage cell_v2 list_cells` and
 * `list_hosts` each start Python and import Nova, 55-75 s measured on the lab's busy ctl1 in a
 * no-op deploy; the same rows by SQL are one mariadb client. The changes themselves stay
 * nova-manage's (map_cell0, create_cell, discover_hosts).
 */
import { z } from "zod";
import { parseToolOutput } from "../../hostkit/command.ts";
import { sql } from "../../hostkit/sql.ts";
import type { StepContext } from "../types.ts";

const CellRow = z
  .tuple([z.string(), z.string().regex(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/), z.enum(["0", "1"])])
  .transform(([name, uuid, disabled]) => ({ name, uuid, disabled: disabled === "1" }));
export type Cell = z.output<typeof CellRow>;
const HostRow = z.tuple([z.string().min(1), z.string()]).transform(([host, cell]) => ({ host, cell }));
export type HostMapping = z.output<typeof HostRow>;

async function rows(ctx: StepContext, statement: string): Promise<string[][]> {
  return sql(ctx.transport, statement, { timeoutMs: 60_000, signal: ctx.signal });
}

/** Every cell mapping (a NULL name reads as ""). */
export async function cellsFromDb(ctx: StepContext): Promise<Cell[]> {
  const found = await rows(
    ctx,
    "SELECT IFNULL(name, ''), uuid, IF(disabled, 1, 0) FROM nova_api.cell_mappings ORDER BY id",
  );
  return parseToolOutput(ctx.transport, "nova_api.cell_mappings", z.array(CellRow), found);
}

/** The computes mapped to a cell, with the cell's name. */
export async function hostMappingsFromDb(ctx: StepContext): Promise<HostMapping[]> {
  const found = await rows(
    ctx,
    "SELECT h.host, IFNULL(c.name, '') FROM nova_api.host_mappings h JOIN nova_api.cell_mappings c ON c.id = h.cell_id ORDER BY h.id",
  );
  return parseToolOutput(ctx.transport, "nova_api.host_mappings", z.array(HostRow), found);
}
