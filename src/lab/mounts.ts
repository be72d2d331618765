import fs from "node:fs/promises";
import path from "node:path";
import { run, runChecked } from "./exec.ts";

/** Mount points at or below `dir`, deepest first, so they can be unmounted in order. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = path.resolve(dir);
  const text = await fs.readFile("/proc/self/mountinfo", "utf8");
  const points = text
    .split("\n")
    .map((line) => unescapeMount(line.split(" ")[4] ?? ""))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function isMountPoint(dir: string): Promise<boolean> {
  return (await mountsUnder(dir)).includes(path.resolve(dir));
}

/** Unmounts everything at or below `dir`; a lazy unmount is the fallback for a busy mount. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    const result = await run("umount", [point]);
    if (result.code !== 0) await runChecked(`unmount ${point}`, "umount", ["--lazy", point]);
  }
}

/** Removes a directory tree without ever crossing into a mounted file system. */
export async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  await runChecked(`remove ${dir}`, "rm", ["-rf", "--one-file-system", "--", dir]);
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
