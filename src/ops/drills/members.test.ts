import { describe, expect, it } from "vitest";
import { memberProblems } from "./members.ts";

describe("memberProblems: a cluster must list exactly the controllers", () => {
  const want = ["ctl1", "ctl2", "ctl3"];
  it("is empty when the lists match, in any order", () => {
    expect(memberProblems("etcd members", ["ctl3", "ctl1", "ctl2"], want)).toEqual([]);
  });
  it("names a member listed twice (an old one left behind at the same name or address)", () => {
    expect(memberProblems("OVN servers", ["ctl1", "ctl2", "ctl3", "ctl3"], want)).toEqual([
      "OVN servers: listed twice: ctl3",
    ]);
  });
  it("names members that are not controllers and controllers that are missing", () => {
    expect(memberProblems("RabbitMQ nodes", ["ctl1", "ctl2", "old4"], want)).toEqual([
      "RabbitMQ nodes: not a controller: old4",
      "RabbitMQ nodes: missing: ctl3",
    ]);
  });
});
