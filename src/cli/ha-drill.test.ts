import { describe, expect, it } from "vitest";
import { runCli } from "../testing/run-cli.ts";

const lab = "examples/lab.yaml";

/** Bad input to `ha drill` is refused before anything is booted or broken. */
describe("ha drill", () => {
  it("refuses compute-capacity-short with one VM: the squeeze would leave room for it, and nothing would be tested", async () => {
    const r = await runCli(["ha", "drill", "compute-capacity-short", "--vms", "1", "-i", lab]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error[E_HA_DRILL]: Cannot run compute-capacity-short: --vms must be 2 or more, so that some VMs have no room and must stay",
    );
  });

  it("refuses --vms 0 for any drill", async () => {
    const r = await runCli(["ha", "drill", "compute-poweroff", "--vms", "0", "-i", lab]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--vms must be a whole number of 1 or more");
  });
});
