import { HastackError } from "./errors.ts";

/**
 * A name given on the command line (`status --only`, `deploy --limit`, `plan --host`...) that
 * matches nothing would otherwise filter everything out and look like a clean answer ("healthy:
 * 0 checks ok"). Any unknown name is an error that lists the valid ones.
 */
export function requireKnownNames(
  option: string,
  given: readonly string[] | undefined,
  valid: readonly string[],
  what: string,
): void {
  if (!given) return;
  const unknown = given.filter((name) => !valid.includes(name));
  if (unknown.length === 0) return;
  throw new HastackError(
    "E_UNKNOWN_NAME",
    `Unknown ${option} ${unknown.map((n) => `'${n}'`).join(", ")}: the ${what} are ${valid.join(", ") || "none"}`,
  );
}
