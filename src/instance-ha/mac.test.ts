import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacSha256, macKey } from "./mac.ts";

describe("instance-ha/mac", () => {
  it.each([
    // RFC 4231, test cases 1, 2 and 6 (a key longer than the block).
    [
      "0b".repeat(20),
      Buffer.from("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      Buffer.from("Jefe").toString("hex"),
      Buffer.from("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      "aa".repeat(131),
      Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
  ])("gives RFC 4231's value for key %s", (key, data, mac) => {
    expect(hmacSha256(macKey(Buffer.from(key, "hex")), [data]).toString("hex")).toBe(mac);
  });

  it("is createHmac's value for any key and message length, split into any parts", () => {
    for (const keyLength of [1, 32, 63, 64, 65, 200]) {
      for (const length of [0, 1, 55, 56, 63, 64, 65, 700, 16_384]) {
        const key = randomBytes(keyLength);
        const data = randomBytes(length);
        const third = Math.floor(length / 3);

        const ours = hmacSha256(macKey(key), [data.subarray(0, third), data.subarray(third)]);

        expect(
          ours.equals(createHmac("sha256", key).update(data).digest()),
          `key ${keyLength}, data ${length}`,
        ).toBe(true);
      }
    }
  });
});
