import type { RenderedFile } from "./render.ts";

/**
 * `compute` of a file, reused while the next file at the same path has the same text. Hosts share
 * most texts (/etc/hosts lists every host and is the same everywhere: 1 GB for 5,000 computes), so
 * the masked bytes, hash or size of each is worked out once, not once per host. One entry per
 * path: nothing else is kept.
 */
export function lastPerPath<T>(compute: (file: RenderedFile) => T): (file: RenderedFile) => T {
  const last = new Map<string, { encoding: string; text: string; value: T }>();
  return (file) => {
    const seen = last.get(file.path);
    if (seen && seen.text === file.text && seen.encoding === file.encoding) return seen.value;
    const value = compute(file);
    last.set(file.path, { encoding: file.encoding, text: file.text, value });
    return value;
  };
}
