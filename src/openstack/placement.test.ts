import { describe, expect, it } from "vitest";
import type { Answer, Session } from "./client.ts";
import { placementApi } from "./placement.ts";

// The session is a stand-in that answers as a proxy in front of Placement would: what is checked
// here is placement.ts's reading of an answer; the real Placement is read by the lab's
// evacuate.e2e.test.ts (`hastack ha evacuate`'s plan).
function answering(answer: Answer): Pick<Session, "url" | "call"> {
  return { url: () => "http://placement.test", call: async () => answer };
}

describe("openstack/placement: answers are checked", () => {
  it("a page that is not JSON is E_OPENSTACK_ANSWER naming the call, not a bare SyntaxError", async () => {
    const html = { status: 200, body: "<html><body>502 Bad Gateway</body></html>", headers: {} };
    await expect(placementApi(answering(html)).providers()).rejects.toMatchObject({
      code: "E_OPENSTACK_ANSWER",
      message: expect.stringMatching(/^Cannot list resource providers: /),
    });
  });

  it("an error status names the call and the status", async () => {
    const refused = { status: 503, body: "Service Unavailable", headers: {} };
    await expect(placementApi(answering(refused)).allocations("a")).rejects.toMatchObject({
      code: "E_OPENSTACK_API",
      message: "Cannot read the allocations of server a: HTTP 503: Service Unavailable",
    });
  });
});
