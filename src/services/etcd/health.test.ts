import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type EndpointStatus, parseEndpointStatus, parseMemberList } from "../../hostkit/etcd.ts";
import { judgeLeaders } from "./health.ts";

/** `etcdctl endpoint status -w json` of each lab member on its own endpoint, captured read-only. */
function fixture(name: string): string {
  return readFileSync(new URL(`../../hostkit/fixtures/${name}`, import.meta.url), "utf8");
}
const status = (host: string, file: string): EndpointStatus =>
  parseEndpointStatus({ name: host } as never, fixture(file))[0] as EndpointStatus;
const members = parseMemberList({ name: "ctl1" } as never, fixture("etcd-member-list-3.json"));

describe("etcd.leader: one leader agreed by all members", () => {
  it("is ok when the three lab members follow the same leader", () => {
    const answers = new Map([
      ["ctl1", status("ctl1", "etcd-endpoint-status-ctl1.json")],
      ["ctl2", status("ctl2", "etcd-endpoint-status-ctl2.json")],
      ["ctl3", status("ctl3", "etcd-endpoint-status-ctl3.json")],
    ]);
    const r = judgeLeaders(answers, members);
    expect(r.state).toBe("ok");
    expect(r.summary).toContain("3 members agree: leader ctl2");
  });

  it("names the split when one member follows another leader (recorded output, edited)", () => {
    const answers = new Map([
      ["ctl1", status("ctl1", "etcd-endpoint-status-ctl1.json")],
      ["ctl2", status("ctl2", "etcd-endpoint-status-ctl2.json")],
      ["ctl3", status("ctl3", "etcd-endpoint-status-ctl3-own-leader-edited.json")],
    ]);
    const r = judgeLeaders(answers, members);
    expect(r.state).toBe("degraded");
    expect(r.summary).toContain("members disagree on the leader (ctl1, ctl2 follow ctl2; ctl3 follow ctl3)");
  });

  it("names a member that does not answer", () => {
    const answers = new Map<string, EndpointStatus | string>([
      ["ctl1", status("ctl1", "etcd-endpoint-status-ctl1.json")],
      ["ctl2", "context deadline exceeded"],
    ]);
    expect(judgeLeaders(answers, members)).toMatchObject({
      state: "degraded",
      summary: expect.stringContaining("no answer from ctl2 (context deadline exceeded)"),
    });
  });
});
