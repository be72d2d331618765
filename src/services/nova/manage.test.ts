import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sameHost } from "../openstack/os-services.ts";
import { CELL0_UUID, parseOnlineMigrations, parsePrettyTable } from "./manage.ts";
import { missingCells } from "./steps.ts";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const host = { name: "ctl1" };

describe("nova-manage's tables", () => {
  it("says which cells are missing: none mapped, cell0 only, or a cell1 under another name", () => {
    const cell0 = { name: "cell0", uuid: CELL0_UUID, disabled: false };
    const cell1 = { name: "cell1", uuid: "7a8d3c52-61e1-4a7f-9d40-3b4f5e6a7c81", disabled: false };
    expect(missingCells([cell0, cell1])).toEqual([]);
    expect(missingCells([])).toEqual(["cell0", "cell1"]);
    expect(missingCells([cell0])).toEqual(["cell1"]);
    expect(missingCells([{ ...cell1, name: "main" }])).toEqual(["cell0", "cell1"]);
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

  it("matches a short or fully qualified hostname to the inventory's name", () => {
    const mapped = ["cmp1", "cmp2.cluster.local"];
    expect(["cmp1", "cmp2", "cmp3"].filter((n) => mapped.some((m) => sameHost(m, n)))).toEqual([
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
