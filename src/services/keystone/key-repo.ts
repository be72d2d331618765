/**
 * @module
 * A key repository on a controller: read what is there (names, hashes, ownership), and move it to
 * a wanted repository in an order that never leaves the host unable to decrypt a token another
 * controller may have issued: new numbered keys first (a promoted key was already staged, so it
 * was already known), then the staged key 0, then the keys that fell out of the active window.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";

const OWNER = "keystone";

export interface RepoFile {
  sha256: string;
  owner: string;
  group: string;
  mode: number;
}

export interface RepoState {
  /** The directory exists, is keystone:keystone and 0700. */
  dirOk: boolean;
  files: Map<string, RepoFile>;
}

const Line = z.string().regex(/^[df] \S+ \S+ \S+ [0-7]{3,4}$/);

/** `find` lists the directory and its files in one round trip; stat hashes the files. */
export async function readRepo(t: Transport, dir: string, timeoutMs = 30_000): Promise<RepoState> {
  const r = await t.exec(
    `[ -d ${dir} ] || exit 0; find ${dir} -maxdepth 1 \\( -type d -o -type f \\) -printf '%y %f %u %g %m\\n'`,
    { timeoutMs },
  );
  if (r.code !== 0)
    throw new HastackError(
      "E_KEYSTONE_KEYS",
      `Cannot list ${dir} on ${t.name}: exit code ${r.code}: ${r.stderr.trim()}`,
    );
  let dirOk = false;
  const names: string[] = [];
  for (const raw of r.stdout.split("\n").filter((l) => l !== "")) {
    const line = Line.safeParse(raw);
    if (!line.success)
      throw new HastackError("E_TOOL_OUTPUT", `Cannot read the listing of ${dir} on ${t.name}: ${raw}`, {
        cause: line.error,
      });
    const [kind, name = "", user, group, mode = ""] = line.data.split(" ");
    if (kind === "d") dirOk = user === OWNER && group === OWNER && mode === "700";
    else names.push(name);
  }
  const stats = await t.stat(names.map((n) => `${dir}/${n}`));
  const files = new Map<string, RepoFile>();
  for (const name of names) {
    const st = stats.get(`${dir}/${name}`);
    if (st) files.set(name, { sha256: st.sha256, owner: st.owner, group: st.group, mode: st.mode & 0o7777 });
  }
  return { dirOk, files };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** What differs from the wanted repository: files to write and files to remove (names only, never keys). */
export function repoDiff(
  state: RepoState,
  wanted: ReadonlyMap<string, string>,
): { write: string[]; remove: string[]; dir: boolean } {
  const write = [...wanted].flatMap(([name, key]) => {
    const f = state.files.get(name);
    const ok = f && f.sha256 === sha256(key) && f.owner === OWNER && f.group === OWNER && f.mode === 0o600;
    return ok ? [] : [name];
  });
  const remove = [...state.files.keys()].filter((n) => !wanted.has(n));
  return { write, remove, dir: !state.dirOk };
}

export function inSync(state: RepoState, wanted: ReadonlyMap<string, string>): boolean {
  const d = repoDiff(state, wanted);
  return !d.dir && d.write.length === 0 && d.remove.length === 0;
}

/** Moves the host's repository to `wanted` (see the module note for the order); returns what changed. */
export async function writeRepo(
  t: Transport,
  dir: string,
  wanted: ReadonlyMap<string, string>,
): Promise<{ written: string[]; removed: string[] }> {
  const d = repoDiff(await readRepo(t, dir), wanted);
  const fail = (what: string, r: { code: number; stderr: string }) =>
    new HastackError(
      "E_KEYSTONE_KEYS",
      `Cannot ${what} on ${t.name}: exit code ${r.code}: ${r.stderr.trim()}`,
    );
  if (d.dir) {
    const r = await t.exec(["install", "-d", "-o", OWNER, "-g", OWNER, "-m", "0700", dir]);
    if (r.code !== 0) throw fail(`create ${dir}`, r);
  }
  const file = (name: string) => ({
    path: `${dir}/${name}`,
    data: wanted.get(name) ?? "",
    opts: { owner: OWNER, group: OWNER, mode: 0o600 },
  });
  const numbered = d.write.filter((n) => n !== "0").sort((a, b) => Number(b) - Number(a));
  await t.writeFiles(numbered.map(file));
  if (d.write.includes("0")) await t.writeFiles([file("0")]);
  if (d.remove.length > 0) {
    const r = await t.exec(["rm", "-f", "--", ...d.remove.map((n) => `${dir}/${n}`)]);
    if (r.code !== 0) throw fail(`remove old keys from ${dir}`, r);
  }
  return { written: d.write, removed: d.remove };
}
