import { describe, expect, it } from "vitest";
import { type HostStatus, memoryLine } from "./status.ts";

const host = (
  name: string,
  memoryMiB: number | undefined,
  guests = { count: 0, memoryMiB: 0 },
): HostStatus => ({
  name,
  role: "compute",
  power: memoryMiB === undefined ? "off" : "on",
  frozen: false,
  bmc: "running",
  management: "10.20.0.21",
  bmcAddress: "10.29.0.121",
  memoryMiB,
  guests,
  processes: 1,
});

describe("lab status's memory line", () => {
  it("sums the hosts that are on and says the guests' share", () => {
    expect(
      memoryLine([
        host("ctl1", 4000),
        host("cmp1", 1600, { count: 4, memoryMiB: 832 }),
        host("cmp2", undefined),
      ]),
    ).toBe("memory: 5600 MiB in the hosts (PSS), of which 4 guest(s) 832 MiB, 208 MiB each");
    expect(memoryLine([host("ctl1", 4000)])).toBe(
      "memory: 4000 MiB in the hosts (PSS), of which 0 guest(s) 0 MiB",
    );
  });
});
