import { describe, expect, it } from "vitest";
import { classify, isFenceWorthy } from "./signals.ts";
import { aliveAt, signals, type World } from "./test-world.ts";

describe("instance-ha/signals: classify", () => {
  it.each<[string, World, string]>([
    ["both networks heard", { management: 9500, storage: 9800, power: "on" }, "ok"],
    ["both silent, power off", { management: 5000, storage: 5000, power: "off" }, "dead"],
    ["both silent, the BMC does not answer", { management: 5000, storage: 5000, power: "unknown" }, "dead"],
    [
      "both silent, power on (hung or cut off)",
      { management: 5000, storage: 5000, power: "on" },
      "unresponsive",
    ],
    ["never heard since the engine started watching", { power: "off" }, "dead"],
    ["storage silent, management heard", { management: 9900, storage: 7000 }, "storage-lost"],
    [
      "the agent cannot reach the storage addresses",
      { ...aliveAt(9900), agent: { storageReachable: false } },
      "storage-lost",
    ],
    ["management silent, storage heard", { management: 7000, storage: 9900, power: "on" }, "management-lost"],
    [
      "management silent, storage heard but Ceph unreachable",
      { management: 7000, storage: 9900, agent: { storageReachable: false } },
      "storage-lost",
    ],
    ["nova-compute down", { ...aliveAt(9900), agent: { novaCompute: false } }, "degraded"],
    ["libvirtd down", { ...aliveAt(9900), agent: { libvirt: false } }, "degraded"],
  ])("%s: %s", (_, world, condition) => {
    expect(classify(signals(world), 10_000, 0, 2000).condition).toBe(condition);
  });

  it("counts a network silent only after silence_ms (2 s): one lost heartbeat is not silence", () => {
    expect(classify(signals({ management: 8000, storage: 8000 }), 10_000, 0, 2000).condition).toBe("ok");
    expect(classify(signals({ management: 7999, storage: 7999 }), 10_000, 0, 2000).condition).toBe("dead");
  });
});

describe("instance-ha/signals: isFenceWorthy", () => {
  it("calls for a fence only when the host is dead, unresponsive or without storage", () => {
    const worthy = (
      ["ok", "degraded", "dead", "unresponsive", "storage-lost", "management-lost"] as const
    ).filter(isFenceWorthy);

    expect(worthy).toEqual(["dead", "unresponsive", "storage-lost"]);
  });
});
