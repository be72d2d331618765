import { describe, expect, it } from "vitest";
import { parseMemoOutput, revisionsSql } from "./schema-memo.ts";

// The script's real run (dpkg-query, mariadb, the memo file) is in keystone-daemons.test.ts.
describe("the schema memo's fingerprint", () => {
  it("is the package version and each database's revisions; a database without the table says none", () => {
    const out = "pkg=2:31.0.0-1\nmemo=old\nnova\t13863f4e1612\n";
    expect(parseMemoOutput(out, ["nova", "nova_cell0"])).toEqual({
      fingerprint: "2:31.0.0-1 nova=13863f4e1612 nova_cell0=none",
      memo: "old",
    });
  });

  it("has none when the package is not installed (the tool then always runs)", () => {
    expect(parseMemoOutput("pkg=\nmemo=\n", ["glance"])).toEqual({ memo: "" });
  });

  it("reads every row of a database with two branches, in a stable order", () => {
    expect(revisionsSql(["neutron"])).toBe(
      "SELECT 'neutron', IFNULL(GROUP_CONCAT(version_num ORDER BY version_num SEPARATOR ','), '-') FROM `neutron`.alembic_version;",
    );
    expect(() => revisionsSql(["x; DROP DATABASE nova"])).toThrow(/not a database name/);
  });
});
