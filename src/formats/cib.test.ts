import { describe, expect, it } from "vitest";
import type { PcmkPrimitive } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";
import { CIB_SCHEMA, cibDocument, esc, mergeContributions } from "./cib.ts";

const dummy = (id: string, params: Record<string, string> = {}): PcmkPrimitive => ({
  id,
  class: "ocf",
  provider: "pacemaker",
  type: "Dummy",
  params,
  ops: [{ name: "monitor", interval_s: 10, timeout_s: 20 }],
});

describe("cibDocument", () => {
  it("escapes attribute values (a BMC password may hold any character)", () => {
    expect(esc(`a&b<c>"d'`)).toBe("a&amp;b&lt;c&gt;&quot;d&apos;");
    const xml = cibDocument({ primitives: [dummy("d1", { password: `p"<&>'` })] });
    expect(xml).toContain('value="p&quot;&lt;&amp;&gt;&apos;"');
    expect(xml).toContain(`validate-with="${CIB_SCHEMA}"`);
  });

  it("merges contributions and writes intervals with units", () => {
    const merged = mergeContributions([
      { properties: { "stonith-enabled": "true" } },
      { properties: { "cluster-recheck-interval": "5min" }, primitives: [dummy("d1")] },
    ]);
    const xml = cibDocument(merged);
    expect(xml).toContain('name="cluster-recheck-interval" value="5min"');
    expect(xml).toContain('interval="10s" timeout="20s"');
  });

  it("refuses a duplicate or invalid id", () => {
    expect(() => cibDocument({ primitives: [dummy("d1"), dummy("d1")] })).toThrow(HastackError);
    expect(() => cibDocument({ primitives: [dummy("1bad")] })).toThrow(HastackError);
  });
});
