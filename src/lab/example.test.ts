import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { labInventory } from "./inventory.ts";
import { DEFAULT_SIZE, planLab } from "./plan.ts";

describe("examples/lab.yaml", () => {
  it("is exactly the inventory `lab up` writes for the default site", async () => {
    const example = parse(await readFile("examples/lab.yaml", "utf8"));
    expect(example).toEqual(JSON.parse(JSON.stringify(labInventory(planLab(DEFAULT_SIZE)))));
  });
});
