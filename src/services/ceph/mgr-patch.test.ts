import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PATCH_MARK, patchMgrUtil, patchState } from "./mgr-patch.ts";

// The first lines and password_hash() of Debian's ceph-mgr 18.2.7 mgr_util.py, as shipped.
const shipped = readFileSync(new URL("./fixtures/mgr_util-18.2.7-excerpt.py", import.meta.url), "utf8");

describe("the ceph-mgr bcrypt fix", () => {
  it("moves the import into password_hash, keeps valid Python, and is recognised as done", () => {
    expect(patchState(shipped)).toBe("needed");
    const patched = patchMgrUtil(shipped);
    expect(patched).not.toMatch(/^import bcrypt$/m);
    expect(patched).toContain(PATCH_MARK);
    expect(patched).toMatch(/def password_hash\(.*\n {4}import bcrypt\n {4}if not password:/);
    // Python itself reads it (the host's python3 stands in for the image's: same grammar).
    execFileSync("python3", ["-c", "import ast,sys; ast.parse(sys.stdin.read())"], { input: patched });
    expect(patchState(patched)).toBe("patched");
  });

  it("changes nothing the second time, and leaves a file without the import alone", () => {
    const once = patchMgrUtil(shipped);
    expect(patchMgrUtil(once)).toBe(once);
    const upstreamFixed = shipped.replace("import bcrypt\n", "");
    expect(patchMgrUtil(upstreamFixed)).toBe(upstreamFixed);
    expect(patchState(upstreamFixed)).toBe("patched");
    expect(patchState(undefined)).toBe("absent");
  });
});
