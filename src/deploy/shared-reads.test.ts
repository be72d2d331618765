import { describe, expect, it } from "vitest";
import { sharedReads } from "./shared-reads.ts";

/** A read that counts how often it was asked and answers with that count. */
function counter() {
  let asked = 0;
  return {
    read: async () => ++asked,
    get asked() {
      return asked;
    },
  };
}

describe("sharedReads", () => {
  it("asks once for every caller while nothing applies, and by key", async () => {
    const reads = sharedReads();
    const users = counter();
    const other = counter();

    const answers = await Promise.all([reads.get("u", users.read), reads.get("u", users.read)]);
    await reads.get("other", other.read);

    expect(answers).toEqual([1, 1]);
    expect(await reads.get("u", users.read)).toBe(1);
    expect([users.asked, other.asked]).toEqual([1, 1]);
  });

  it("forgets every answer once anything applied, and shares none while an apply runs", async () => {
    const reads = sharedReads();
    const c = counter();
    await reads.get("u", c.read);

    const during = await reads.applying(async () => [
      await reads.get("u", c.read),
      await reads.get("u", c.read),
    ]);

    expect(during).toEqual([2, 3]);
    expect(await reads.get("u", c.read)).toBe(4);
    expect(await reads.get("u", c.read)).toBe(4);
  });

  it("does not keep an answer read before an apply that ended after it began", async () => {
    const reads = sharedReads();
    let release: () => void = () => {};
    let asked = 0;
    const slow = () =>
      new Promise<number>((r) => {
        asked++;
        release = () => r(asked);
      });

    const early = reads.get("u", slow);
    await reads.applying(async () => release());
    await early;
    const later = reads.get("u", slow);
    release();

    expect(await later).toBe(2);
  });

  it("does not keep a failed read: the next caller asks again", async () => {
    const reads = sharedReads();
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw new Error("rabbitmqctl: nodedown");
      return "users";
    };

    await expect(reads.get("u", flaky)).rejects.toThrow("nodedown");

    expect(await reads.get("u", flaky)).toBe("users");
  });
});
