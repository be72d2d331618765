import { describe, expect, it } from "vitest";
import { lastLine, lastLines } from "./text.ts";

describe("lastLines", () => {
  it("keeps the last lines on one line, without the control characters a tool printed (mbstream's bell)", () => {
    const stderr = "first\nsecond\n\u0007mbstream: Can't create/write to file './mysql/table_stats.MAI'\n";
    expect(lastLines(stderr, 2)).toBe(
      "second / mbstream: Can't create/write to file './mysql/table_stats.MAI'",
    );
    expect(lastLine("a\tb\r\n", 10)).toBe("ab");
  });
});
