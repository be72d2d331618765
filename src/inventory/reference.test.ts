import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { services } from "../services/registry.ts";
import { inventorySchemaFor } from "./assemble.ts";
import { inventoryJsonSchema, inventoryReferenceTable } from "./reference.ts";

describe("generated inventory reference", () => {
  it("schema/inventory.schema.json is up to date (npm run schema)", async () => {
    const committed = JSON.parse(await readFile("schema/inventory.schema.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(inventoryJsonSchema(inventorySchemaFor(services)))));
  });

  it("docs/inventory.md lists every field (npm run schema)", async () => {
    const doc = await readFile("docs/inventory.md", "utf8");
    expect(doc).toContain(inventoryReferenceTable(inventorySchemaFor(services)));
  });
});
