import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellQuote, shellQuoteArg } from "./shell-quote.ts";

describe("shellQuote", () => {
  it("leaves safe words alone and quotes the rest", () => {
    expect(shellQuoteArg("abc-1.2/x")).toBe("abc-1.2/x");
    expect(shellQuoteArg("")).toBe("''");
    expect(shellQuoteArg("a b")).toBe("'a b'");
    expect(shellQuoteArg("it's")).toBe("'it'\\''s'");
  });

  it("round-trips hostile argv through a real /bin/sh", () => {
    const argv = ["a b", "it's", '"dq"', "$HOME", "`id`", "x;y", "\\n", "new\nline", "", "*", "é ü", "!"];
    const line = `printf '%s\\0' ${shellQuote(argv)}`;
    const out = execFileSync("/bin/sh", ["-c", line]).toString("utf8");
    expect(out.split("\0").slice(0, -1)).toEqual(argv);
  });

  it("passes a string command through unchanged", () => {
    expect(shellQuote("echo $HOME")).toBe("echo $HOME");
  });
});
