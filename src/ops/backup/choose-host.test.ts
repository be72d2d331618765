import { describe, expect, it } from "vitest";
import {
  chooseHolder,
  chooseSource,
  chooseVerifyHost,
  type NodeFacts,
  type NodeState,
} from "./choose-host.ts";

const synced: NodeState = {
  WSREP_LOCAL_STATE: "4",
  WSREP_READY: "ON",
  WSREP_CLUSTER_STATUS: "Primary",
  WSREP_LOCAL_STATE_UUID: "a32b03fe-eff4-11f1-94d6-9f8e728bf936",
  WSREP_LAST_COMMITTED: "8391",
  WSREP_DESYNC: "0",
};
const node = (host: string, over: Partial<NodeFacts> = {}, state: Partial<NodeState> = {}): NodeFacts => ({
  host,
  holdsVip: false,
  writer: false,
  state: { ...synced, ...state },
  ...over,
});

describe("choosing the backup's source", () => {
  it("prefers a Synced node that neither holds the VIP nor is the SQL writer", () => {
    const nodes = [node("ctl1", { writer: true }), node("ctl2", { holdsVip: true }), node("ctl3")];
    expect(chooseSource(nodes).host).toBe("ctl3");
    // Without such a node: the writer before the VIP's holder (HAProxy runs there).
    expect(chooseSource(nodes.slice(0, 2)).host).toBe("ctl1");
  });

  it("never takes a donor, a desynced, a non-Primary or a silent node, and says why for each", () => {
    const nodes = [
      node("ctl1", {}, { WSREP_LOCAL_STATE: "2" }),
      node("ctl2", {}, { WSREP_DESYNC: "1" }),
      node("ctl3", {}, { WSREP_CLUSTER_STATUS: "non-Primary" }),
      {
        host: "ctl4",
        holdsVip: false,
        writer: false,
        unreachable: true,
        why: "Cannot connect to ctl4: timeout",
      },
      node("ctl5", {}, { WSREP_LOCAL_STATE: "1" }),
    ];
    expect(() => chooseSource(nodes)).toThrow(
      "Cannot back up galera: no controller is Synced and free to take it (ctl1: a donor (wsrep_local_state 2); ctl2: desynced (wsrep_desync=ON); ctl3: not in the Primary Component (non-Primary); ctl4: Cannot connect to ctl4: timeout; ctl5: not Synced (wsrep_local_state 1))",
    );
    expect(chooseSource([...nodes, node("ctl6", { holdsVip: true })]).host).toBe("ctl6");
  });

  it("stores off the source and verifies on the least busy controller", () => {
    const nodes = [node("ctl1", { writer: true }), node("ctl2", { holdsVip: true }), node("ctl3")];
    expect(chooseHolder("ctl3", nodes)).toBe("ctl1");
    expect(chooseVerifyHost(nodes)).toBe("ctl3");
    expect(() => chooseHolder("ctl1", [node("ctl1")])).toThrow("no other controller can be reached");
  });
});
