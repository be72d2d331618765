import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRows } from "../../hostkit/sql.ts";
import { judgeReplication, type NodeCopy, nodeCopyStatement, parseNodeCopy } from "./replication-probe.ts";

/**
 * `mariadb -N -B` answers to nodeCopyStatement on each lab controller, captured read-only (over
 * the probe table the lab already had); the -edited copy shows ctl2 missing the row.
 */
function copy(host: string, file: string): NodeCopy {
  const text = readFileSync(new URL(`../../hostkit/fixtures/${file}`, import.meta.url), "utf8");
  return parseNodeCopy(host, parseRows(text));
}

describe("galera.replication: a row written via the VIP on every node, same rows, seqnos", () => {
  const written = { id: 1, seqno: 23 };
  const all = () =>
    new Map<string, NodeCopy | string>([
      ["ctl1", copy("ctl1", "galera-replication-ctl1.tsv")],
      ["ctl2", copy("ctl2", "galera-replication-ctl2.tsv")],
      ["ctl3", copy("ctl3", "galera-replication-ctl3.tsv")],
    ]);

  it("reads a node's copy: rows, checksum, seqno, state and cluster UUID", () => {
    expect(copy("ctl1", "galera-replication-ctl1.tsv")).toEqual({
      node: "ctl1",
      rows: 1,
      checksum: "4171990756",
      seqno: 23,
      state: "Synced",
      uuid: "8daed9b2-ee07-11f1-8dec-a63b835f5afc",
    });
  });

  it("is ok when every node holds the same rows and has committed the write", () => {
    const r = judgeReplication(written, all());
    expect(r.state).toBe("ok");
    expect(r.summary).toContain("found on 3 nodes, same 1 rows; seqnos ctl1 23, ctl2 23, ctl3 23");
  });

  it("names the node whose data diverged (a row deleted there alone)", () => {
    const copies = all();
    copies.set("ctl2", copy("ctl2", "galera-replication-ctl2-row-missing-edited.tsv"));
    const r = judgeReplication(written, copies);
    expect(r.state).toBe("degraded");
    expect(r.summary).toContain("ctl2 hold(s) other rows than ctl1, ctl3 (0 rows vs 1): data diverged");
  });

  it("names a node behind the write and one that cannot be read", () => {
    const copies = all();
    copies.set("ctl3", "Cannot run SQL on ctl3: exit code 1");
    const r = judgeReplication({ id: 1, seqno: 30 }, copies);
    expect(r.summary).toContain("ctl3 cannot be read");
    expect(r.summary).toContain("ctl1 has committed up to seqno 23, behind the write at 30");
  });

  it("asks for the copy after wsrep_sync_wait, up to the written row only", () => {
    const statement = nodeCopyStatement("hastack_probe", 42.9);
    expect(statement.split(";\n")[0]).toBe("SET SESSION wsrep_sync_wait=1");
    expect(statement).toContain("FROM hastack_probe.replication WHERE id <= 42");
  });

  it("refuses an answer that is not the statement's", () => {
    expect(() => parseNodeCopy("ctl1", parseRows("wsrep_last_committed\t23\n"))).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
  });
});
