import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { askSiteName } from "./confirm.ts";

function ask(typed: string | undefined) {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = "";
  output.on("data", (d: Buffer) => {
    shown += d.toString();
  });
  const answer = askSiteName("lab", input, output);
  if (typed === undefined) input.end();
  else input.write(`${typed}\n`);
  return answer.then((ok) => ({ ok, shown }));
}

describe("askSiteName", () => {
  it("goes ahead only on the site name, typed exactly", async () => {
    expect(await ask("lab")).toEqual({
      ok: true,
      shown: "Type the site name (lab) to carry out this plan, anything else to stop: ",
    });
    expect((await ask("y")).ok).toBe(false);
    expect((await ask("Lab")).ok).toBe(false);
  });

  it("stdin closed before an answer is a no, not a hang", async () => {
    expect((await ask(undefined)).ok).toBe(false);
  });
});
