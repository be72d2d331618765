import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../transport/types.ts";
import { readQuorum } from "./quorum.ts";

/**
 * corosync-quorumtool-s.txt and -ctl2-fenced.txt were captured on the lab's controllers
 * (corosync 3.1.9); the not-quorate one is the -edited copy LAB-CAPTURES.md describes: no
 * corosync could be made to lose quorum for a capture, so that answer is recorded, not real.
 */
function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}

function host(code: number, stdout: string, stderr = "") {
  const calls: string[][] = [];
  return {
    calls,
    name: "ctl1",
    exec: async (argv: string[] | string): Promise<ExecResult> => {
      calls.push(typeof argv === "string" ? [argv] : argv);
      return { code, stdout, stderr, durationMs: 3 };
    },
  };
}

describe("hostkit/quorum: is this controller in the quorate partition", () => {
  it("says yes for the whole cluster and after a drill fenced ctl2 (2 of 3 votes)", async () => {
    const whole = host(0, fixture("corosync-quorumtool-s.txt"));
    expect(await readQuorum(whole)).toEqual({
      quorate: true,
      reason: "ctl1 is quorate (3 of 3 votes, 2 needed)",
    });
    expect(whole.calls).toEqual([["corosync-quorumtool", "-s"]]);
    const fenced = await readQuorum(host(0, fixture("corosync-quorumtool-s-ctl2-fenced.txt")));
    expect(fenced).toEqual({ quorate: true, reason: "ctl1 is quorate (2 of 3 votes, 2 needed)" });
  });

  it("says no for a node left alone (exit code 2, the status still printed)", async () => {
    const alone = await readQuorum(host(2, fixture("corosync-quorumtool-s-alone-edited.txt")));
    expect(alone).toEqual({ quorate: false, reason: "ctl1 is not quorate (1 of 3 votes, 2 needed)" });
  });

  it("counts an exit code that contradicts the Quorate line as no quorum", async () => {
    const odd = await readQuorum(host(2, fixture("corosync-quorumtool-s.txt")));
    expect(odd.quorate).toBe(false);
    expect(odd.reason).toMatch(/exit code 2 disagrees with "Quorate: Yes"/);
  });

  it("throws E_HA_QUORUM when corosync does not answer, E_TOOL_OUTPUT on output it cannot read", async () => {
    const down = host(1, "", "Cannot initialize QUORUM service\n");
    await expect(readQuorum(down)).rejects.toMatchObject({
      code: "E_HA_QUORUM",
      message: expect.stringContaining("Cannot initialize QUORUM service"),
    });
    const garbled = fixture("corosync-quorumtool-s.txt").replace(/Quorate:.*\n/, "");
    await expect(readQuorum(host(0, garbled))).rejects.toMatchObject({ code: "E_TOOL_OUTPUT" });
  });
});
