/**
 * @module
 * journalctl for a window of time, as `hastack diagnose` reads the cluster's own logs around an
 * incident: absolute UTC times (every host reads the same window), precise timestamps so lines
 * from several hosts can be put side by side.
 */
export function journalArgv(units: readonly string[], window: { since: string; until: string }): string[] {
  return [
    "journalctl",
    "--no-pager",
    "--output=short-iso-precise",
    `--since=${window.since}`,
    `--until=${window.until}`,
    ...units.map((u) => `--unit=${u}`),
  ];
}

/** A shell script's argv that prints each command under a `## command` heading, whatever it exits. */
export function sections(commands: readonly string[]): string[] {
  return ["sh", "-c", commands.map((c) => `echo "## ${c.replace(/"/g, "'")}"; ${c} 2>&1; echo`).join("\n")];
}
