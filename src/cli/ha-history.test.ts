/**
 * `ha history` and `ha status` wiring, without a database: every option is refused before the
 * inventory is read or the database reached. Their reading and wording against a real MariaDB:
 * src/instance-ha/status-report.test.ts.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

const lab = "examples/lab.yaml";
/** An inventory that does not exist: an option refused with it was refused before reading it. */
const nowhere = "/nonexistent/inventory.yaml";

describe("ha history and ha status on the command line", () => {
  it("refuses an unknown --kind, naming the kinds, before reading the inventory", async () => {
    const r = await runCli(["ha", "history", "--kind", "fencing", "-i", nowhere]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "error[E_UNKNOWN_NAME]: Unknown --kind 'fencing': the kinds are phase, gate, fence, evacuation, alert, operator",
    );
  });

  it("refuses a --since that is neither a duration nor a time, and a --limit that is no count", async () => {
    for (const [option, value] of [
      ["--since", "yesterday-ish"],
      ["--limit", "0"],
      ["--limit", "ten"],
    ] as const) {
      const r = await runCli(["ha", "history", option, value, "-i", nowhere]);
      expect(r.code, value).toBe(1);
      expect(r.stderr, value).toContain(`error[E_HA_HISTORY_OPTION]: Cannot read ${option} ${value}:`);
    }
  });

  it("refuses a --host that is not a compute of the inventory, before reading its secrets", async () => {
    for (const host of ["ctl1", "cmp9"]) {
      const r = await runCli(["ha", "history", "--host", host, "--since", "2h", "-i", lab]);
      expect(r.code, host).toBe(1);
      expect(r.stderr).toContain(
        `error[E_UNKNOWN_NAME]: Unknown --host '${host}': the computes are cmp1, cmp2`,
      );
    }
  });

  it("valid options go on to the secrets file (this example has none, so nothing is reached)", async () => {
    for (const args of [
      [
        "ha",
        "history",
        "--host",
        "cmp1",
        "--kind",
        "gate",
        "--since",
        "2026-12-03T10:00:00Z",
        "--limit",
        "5",
      ],
      ["ha", "status", "--json"],
    ]) {
      const r = await runCli([...args, "-i", lab]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toContain("error[E_SECRETS_FILE_MISSING]");
    }
  });
});
