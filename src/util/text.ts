/** The last `n` non-empty-trimmed lines of a command's output, on one line: enough to say why. */
export function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join(" / ");
}

/** The last line of a command's output, cut to `max` characters, for a one-line summary. */
export function lastLine(text: string, max = 160): string {
  return lastLines(text, 1).slice(0, max);
}
