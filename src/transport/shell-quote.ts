/**
 * Quotes one word for POSIX /bin/sh (dash on Debian). Single quotes only: `$'…'` is bash-only.
 */
export function shellQuoteArg(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Turns argv into one command line for /bin/sh; a string is taken as already a shell command. */
export function shellQuote(command: readonly string[] | string): string {
  if (typeof command === "string") return command;
  return command.map(shellQuoteArg).join(" ");
}
