import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sameHost } from "../openstack/os-services.ts";
import { parseCells, parseHostMappings, parseOnlineMigrations, parsePrettyTable } from "./manage.ts";
import { missingCells } from "./steps.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const host = { name: "ctl1" };

describe("nova-manage's tables", () => {
  it("reads list_cells: cell0 by its fixed UUID, cell1 by name, disabled as a boolean", () => {
    expect(parseCells(host, fixture("list-cells.txt"))).toEqual([
      { name: "cell0", uuid: "00000000-0000-0000-0000-000000000000", disabled: false },
      { name: "cell1", uuid: "7a8d3c52-61e1-4a7f-9d40-3b4f5e6a7c81", disabled: false },
    ]);
    expect(missingCells(parseCells(host, fixture("list-cells.txt")))).toEqual([]);
  });

  it("says which cells are missing: none mapped, cell0 only, or a cell1 under another name", () => {
    const empty = fixture("list-cells.txt")
      .split("\n")
      .filter((l) => !l.startsWith("| cell"))
      .join("\n");
    expect(parseCells(host, empty)).toEqual([]);
    expect(missingCells([])).toEqual(["cell0", "cell1"]);
    const cell0 = parseCells(host, fixture("list-cells.txt")).slice(0, 1);
    expect(missingCells(cell0)).toEqual(["cell1"]);
    expect(
      missingCells([{ name: "main", uuid: "7a8d3c52-61e1-4a7f-9d40-3b4f5e6a7c81", disabled: false }]),
    ).toEqual(["cell0", "cell1"]);
  });

  it("cuts columns at the border's +, so a | inside a value does not shift them", () => {
    const text = [
      "+------+-----------+",
      "| Name | URL       |",
      "+------+-----------+",
      "| a    | x|y       |",
      "+------+-----------+",
    ].join("\n");
    expect(parsePrettyTable(text)).toEqual([{ Name: "a", URL: "x|y" }]);
  });

  it("refuses output that is not the documented table, naming the tool and host", () => {
    expect(() => parseCells(host, "ERROR: Could not access cell0.\n")).toThrow(
      /^Cannot read nova-manage cell_v2 list_cells's answer on ctl1: no table in it/,
    );
    const bad = fixture("list-cells.txt").replace("00000000-0000-0000-0000-000000000000", "not-a-uuid");
    expect(() => parseCells(host, bad)).toThrow(/list_cells's answer on ctl1: 0\.UUID/);
  });

  it("reads list_hosts and matches a short or fully qualified hostname to the inventory's name", () => {
    const mapped = parseHostMappings(host, fixture("list-hosts.txt"));
    expect(mapped).toEqual([
      { cell: "cell1", host: "cmp1" },
      { cell: "cell1", host: "cmp2.cluster.local" },
    ]);
    expect(["cmp1", "cmp2", "cmp3"].filter((n) => mapped.some((m) => sameHost(m.host, n)))).toEqual([
      "cmp1",
      "cmp2",
    ]);
    expect(sameHost("cmp10", "cmp1")).toBe(false);
  });

  it("reads online_data_migrations' summary after its 'Running batches' line", () => {
    const rows = parseOnlineMigrations(host, fixture("online-migrations.txt"));
    expect(rows).toHaveLength(11);
    expect(rows.filter((r) => r.done > 0)).toEqual([
      { name: "populate_instance_compute_id", found: 3, done: 3 },
    ]);
  });
});
