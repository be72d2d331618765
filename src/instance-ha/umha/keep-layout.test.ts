import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { keepLayout } from "./keep-layout.ts";

const source = `# a site
networks:
  management: { cidr: 10.20.0.0/24 }
hosts:
  cmp1:
    roles: [compute]   # the compute
    addresses: { management: 10.20.0.21 }
  cmp2:
    roles: [compute]
    addresses:
      management: 10.20.0.22
`;

function edit(path: string[], value: unknown): { rewritten: string; kept: string } {
  const doc = parseDocument(source);
  doc.setIn(path, doc.createNode(value));
  const rewritten = doc.toString();
  return { rewritten, kept: keepLayout(source, rewritten) };
}

describe("keepLayout", () => {
  it("keeps a mix of padded and unpadded flow collections as written; the edit only inserts", () => {
    const { rewritten, kept } = edit(["hosts", "cmp2", "addresses", "storage"], "10.21.0.22");
    // The library pads every flow collection alike: what keepLayout is for.
    expect(rewritten).toContain("roles: [ compute ]");
    expect(kept).toBe(
      source.replace("management: 10.20.0.22\n", "management: 10.20.0.22\n      storage: 10.21.0.22\n"),
    );
  });

  it("a key added to a flow map changes that line only", () => {
    const { rewritten, kept } = edit(["hosts", "cmp1", "addresses", "storage"], "10.21.0.21");
    expect(kept.split("\n")).toHaveLength(source.split("\n").length);
    expect(kept).toContain("roles: [compute]   # the compute");
    expect(kept).toMatch(/addresses: \{ ?management: 10\.20\.0\.21, storage: 10\.21\.0\.21 ?\}/);
    expect(parse(kept)).toEqual(parse(rewritten));
  });
});
