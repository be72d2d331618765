import { describe, expect, it } from "vitest";
import { maskLike, maskSecrets, materialize, secretPlaceholder, secretsIn } from "./secrets.ts";

describe("secret placeholders", () => {
  const raw = secretPlaceholder("db_nova");
  const json = secretPlaceholder("bmc_cmp1", "json");

  it("are swapped in as they are, or escaped for the inside of a JSON string", () => {
    const text = `password = ${raw}\n{"bmc": "${json}"}\n`;
    const out = materialize(text, { db_nova: 'a"b\\c', bmc_cmp1: 'x"y\\z\n' });
    expect(out).toBe(`password = a"b\\c\n{"bmc": "x\\"y\\\\z\\n"}\n`);
    expect(JSON.parse(out.split("\n")[1] as string)).toEqual({ bmc: 'x"y\\z\n' });
    expect(secretsIn(text)).toEqual(["db_nova", "bmc_cmp1"]);
    expect(maskSecrets(text)).toBe('password = <secret:db_nova>\n{"bmc": "<secret:bmc_cmp1>"}\n');
  });

  it("mask a host's copy line by line, whatever the encoding of the line's placeholder", () => {
    const rendered = `[db]\npassword = ${raw}\n  "cmp1": "${json}",\nplain = 1`;
    const remote = '[db]\npassword = old-value\n  "cmp1": "old\\"one",\nplain = 1';
    expect(maskLike(remote, rendered)).toBe(
      '[db]\npassword = <secret:db_nova>\n  "cmp1": "<secret:bmc_cmp1>",\nplain = 1',
    );
  });
});
