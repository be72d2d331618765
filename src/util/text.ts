/**
 * The last `n` non-empty-trimmed lines of a command's output, on one line: enough to say why.
 * Control characters go (mbstream rings the bell before its errors), so a message stays text.
 */
export function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split("\n")
    .slice(-n)
    .map((line) => line.replace(/\p{Cc}/gu, ""))
    .join(" / ");
}

/** The last line of a command's output, cut to `max` characters, for a one-line summary. */
export function lastLine(text: string, max = 160): string {
  return lastLines(text, 1).slice(0, max);
}
