/**
 * @module
 * Debian's ceph-mgr 18.2.7 loads every Python module in a sub-interpreter, and mgr_util.py imports
 * bcrypt (a PyO3 extension) at load time: PyO3 refuses sub-interpreters, so every module fails
 * (upstream tracker 64213), rbd_support, balancer and pg_autoscaler included. bcrypt is used only
 * to hash dashboard passwords, so the fix moves the import into that function. It is a file
 * owned by a package: an upgrade may put the old line back, which the check (and status) see.
 */

import { runTool } from "../../hostkit/command.ts";
import type { Transport } from "../../transport/types.ts";

export const MGR_UTIL = "/usr/share/ceph/mgr/mgr_util.py";
export const PATCH_MARK = "# hastack: bcrypt is imported lazily (PyO3 sub-interpreters, ceph tracker 64213)";

export type PatchState = "patched" | "needed" | "absent";

/** A pure function of the file's text, so it is unit tested on the real file's lines. */
export function patchMgrUtil(text: string): string {
  if (text.includes(PATCH_MARK)) return text;
  const lines = text.split("\n");
  const top = lines.indexOf("import bcrypt");
  if (top < 0) return text;
  lines[top] = PATCH_MARK;
  const def = lines.findIndex((l) => l.startsWith("def password_hash("));
  if (def >= 0) lines.splice(def + 1, 0, "    import bcrypt");
  return lines.join("\n");
}

export function patchState(text: string | undefined): PatchState {
  if (text === undefined) return "absent";
  return /^import bcrypt$/m.test(text) ? "needed" : "patched";
}

export async function readPatchState(t: Transport): Promise<PatchState> {
  return patchState((await t.readFile(MGR_UTIL))?.toString("utf8"));
}

/** Rewrites the file in place (same owner and mode), then proves Python still compiles it. */
export async function applyMgrPatch(t: Transport): Promise<void> {
  const text = (await t.readFile(MGR_UTIL))?.toString("utf8");
  if (text === undefined) return;
  await t.writeFile(MGR_UTIL, patchMgrUtil(text), { owner: "root", group: "root", mode: 0o644 });
  await runTool(t, "E_CEPH_MGR_PATCH", `compile the patched ${MGR_UTIL}`, [
    "python3",
    "-c",
    `import ast,sys; ast.parse(open(sys.argv[1]).read())`,
    MGR_UTIL,
  ]);
}
