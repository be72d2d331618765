import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LineCounter, parseDocument } from "yaml";
import { services } from "../services/registry.ts";
import { validateInventory } from "../topology/load.ts";
import { inventorySchemaFor } from "./assemble.ts";
import { loadInventory, parseSource } from "./load.ts";

async function write(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "hastack-inv-"));
  const file = join(dir, "inventory.yaml");
  await writeFile(file, text);
  return file;
}

describe("loadInventory", () => {
  it("accepts both examples", async () => {
    for (const file of ["examples/lab.yaml", "examples/runbook-9-node.yaml"]) {
      const result = await validateInventory(file, services);
      expect(result.problems.filter((p) => p.severity === "error")).toEqual([]);
    }
  });

  it("reports five distinct mistakes at once, each with its line and column", async () => {
    const result = await validateInventory("src/inventory/fixtures/five-mistakes.yaml", services);
    const found = result.problems.map((p) => `${p.code}@${p.pos?.line}:${p.pos?.col}`).sort();
    expect(found).toEqual([
      "E_ADDRESS_OUTSIDE_NETWORK@21:30",
      "E_CONTROLLER_NO_BMC@20:5",
      "E_DUPLICATE_ADDRESS@9:13",
      "E_SCHEMA_INVALID_VALUE@16:25",
      "E_SCHEMA_UNRECOGNIZED_KEYS@25:12",
    ]);
    for (const p of result.problems) expect(p.hint).toBeTruthy();
  });

  it("reports malformed YAML with its position, not an exception", async () => {
    const file = await write("cluster: lab\nhosts:\n  ctl1: [controller\n  ctl2: {}\n");
    const result = await loadInventory(file, inventorySchemaFor(services));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.code).toMatch(/^E_YAML_/);
    expect(result.problems[0]?.pos?.line).toBeGreaterThanOrEqual(3);
  });

  it("reports a duplicated host name as a YAML error at the second one", async () => {
    const file = await write("cluster: lab\nhosts:\n  ctl1: {}\n  ctl1: {}\n");
    const result = await loadInventory(file, inventorySchemaFor(services));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]?.code).toBe("E_YAML_DUPLICATE_KEY");
    expect(result.problems[0]?.pos?.line).toBe(4);
  });

  it("finds repeated keys as the yaml library's uniqueKeys does, with its errors", () => {
    const texts = [
      "a: 1\nb: {x: 1, x: 2}\n",
      "a:\n  - k: 1\n    k: 1\n",
      "? [1, 2]\n: a\n? [1, 2]\n: b\n",
      "1: a\n'1': b\n",
      ".nan: a\n.nan: b\n",
      "~: a\nnull: b\n",
      "x: &a 1\n*a : 2\n1: 3\n",
      "a: 1\nb: [\nc: 1\nc: 2\n",
      "a: 1\nb:\n  c: 1\n  d: 2\n",
    ];
    for (const text of texts) {
      const library = parseDocument(text, {
        lineCounter: new LineCounter(),
        prettyErrors: true,
        uniqueKeys: true,
      });
      const ours = parseSource("f.yaml", text).problems.map((p) => `${p.code} ${p.pos?.line}:${p.pos?.col}`);
      const theirs = library.errors.map(
        (e) => `E_YAML_${e.code} ${e.linePos?.[0]?.line}:${e.linePos?.[0]?.col}`,
      );
      expect(ours, text).toEqual(theirs);
    }
  });

  it("flags an even controller count unless waived with a reason", async () => {
    const base = (await import("node:fs/promises")).readFile("examples/lab.yaml", "utf8");
    const text = (await base).replace("roles: [compute]", "roles: [compute, controller]");
    const file = await write(text);
    let result = await validateInventory(file, services);
    expect(result.problems.map((p) => p.code)).toContain("E_CONTROLLER_COUNT");
    await writeFile(
      file,
      `${await (await import("node:fs/promises")).readFile(file, "utf8")}waivers:\n  controller_count: four controllers across two rooms, a witness elsewhere\n`,
    );
    result = await validateInventory(file, services);
    expect(result.problems.map((p) => p.code)).not.toContain("E_CONTROLLER_COUNT");
  });

  it("rejects a VIP outside the management network and a missing dependency", async () => {
    const lab = await (await import("node:fs/promises")).readFile("examples/lab.yaml", "utf8");
    // Nova without what it requires (Glance, Placement, Neutron), in place of the lab's own list.
    const text = lab
      .replace("internal: 10.20.0.10", "internal: 10.22.0.10")
      .replace(/^ {4}enabled: \[.*\]$/m, "    enabled: [keystone, nova]");
    expect(text).toContain("    enabled: [keystone, nova]\n");
    const result = await validateInventory(await write(text), services);
    const codes = result.problems.map((p) => p.code);
    expect(codes).toContain("E_VIP_OUTSIDE_MANAGEMENT");
    expect(codes).toContain("E_SERVICE_DEPENDENCY");
  });

  it("refuses TLS on the public endpoints without a public VIP of their own, at tls.public", async () => {
    const lab = await (await import("node:fs/promises")).readFile("examples/lab.yaml", "utf8");
    const shared = lab.replace("  public: 10.20.0.50\n", "");
    expect(shared).not.toContain("public: 10.20.0.50");
    const result = await validateInventory(await write(shared), services);
    const problem = result.problems.find((p) => p.code === "E_TLS_PUBLIC_VIP");
    expect(problem?.message).toContain("tls.public: site-ca needs vips.public");
    expect(problem?.pos?.line).toBe(shared.split("\n").indexOf("  public: site-ca") + 1);
    // The same file with its public VIP is valid.
    expect(
      (await validateInventory(await write(lab), services)).problems.filter((p) => p.severity === "error"),
    ).toEqual([]);
  });
});
