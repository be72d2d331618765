import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseCibConstraints,
  parseCibProperties,
  parseCrmVerify,
  parseResourcePaths,
} from "./pacemaker-cib.ts";

/** Captured read-only from the lab (Pacemaker 3.0.0); `-edited` and how crm_verify's failure was made: LAB-CAPTURES.md. */
function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}
const host = { name: "ctl1" };

describe("cibadmin --query of the scopes without secrets", () => {
  it("reads the cluster properties, Pacemaker's own among them", () => {
    const props = parseCibProperties(host, fixture("cibadmin-crm-config.xml"));
    expect(props.get("stonith-enabled")).toBe("true");
    expect(props.get("cluster-recheck-interval")).toBe("5min");
    expect(props.get("dc-version")).toBe("3.0.0-3.0.0");
    const off = parseCibProperties(host, fixture("cibadmin-crm-config-stonith-off-edited.xml"));
    expect([off.get("stonith-enabled"), off.get("maintenance-mode")]).toEqual(["false", "true"]);
  });

  it("reads constraints with a canonical form that ignores attribute order", () => {
    const constraints = parseCibConstraints(host, fixture("cibadmin-constraints.xml"));
    expect(constraints.map((c) => [c.kind, c.id])).toEqual([
      ["rsc_location", "fence-ctl1-not-on-self"],
      ["rsc_location", "fence-ctl2-not-on-self"],
      ["rsc_location", "fence-ctl3-not-on-self"],
      ["rsc_colocation", "vip-internal-with-haproxy"],
      ["rsc_order", "haproxy-then-vip-internal"],
      ["rsc_colocation", "vip-public-with-haproxy"],
      ["rsc_order", "haproxy-then-vip-public"],
      ["rsc_order", "haproxy-then-hastack-engine"],
    ]);
    const swapped = parseCibConstraints(
      host,
      '<constraints><rsc_location score="-INFINITY" node="ctl1" rsc="fence-ctl1" id="fence-ctl1-not-on-self"/></constraints>',
    );
    expect(swapped[0]?.canonical).toBe(constraints[0]?.canonical);
  });

  it("reads the resources by name from --node-path, never their parameters", () => {
    expect(parseResourcePaths(host, fixture("cibadmin-resources-node-path.txt"))).toEqual([
      { kind: "primitive", id: "fence-ctl1" },
      { kind: "primitive", id: "fence-ctl2" },
      { kind: "primitive", id: "fence-ctl3" },
      { kind: "primitive", id: "vip-internal" },
      { kind: "primitive", id: "vip-public" },
      { kind: "clone", id: "haproxy-clone" },
      { kind: "primitive", id: "hastack-engine" },
    ]);
    expect(() => parseResourcePaths(host, "Call cib_query failed: No such device or address\n")).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
  });
});

describe("crm_verify -L -V", () => {
  it("reads a valid live CIB (no output, exit 0)", () => {
    expect(parseCrmVerify(host, fixture("crm-verify-ok.txt"), 0)).toEqual({
      valid: true,
      errors: [],
      warnings: [],
      notes: [],
    });
  });

  it("reads an invalid CIB's errors (exit 78)", () => {
    const r = parseCrmVerify(host, fixture("crm-verify-invalid-option.txt"), 78);
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual([
      "Using default value for cluster option 'no-quorum-policy' because 'bogus' is invalid",
      "CIB did not pass schema validation",
    ]);
  });
});
