import type { Command } from "commander";
import { HastackError, InventoryError } from "../util/errors.ts";
import { formatProblems } from "./problems.ts";

/**
 * Runs the program and turns every error into a clear message and an exit code: 1 for a
 * known failure, 70 for a bug. Never a stack trace for bad input.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

export function reportError(error: unknown): number {
  if (error instanceof InventoryError) {
    process.stderr.write(`${formatProblems(error.problems)}\n`);
    return 1;
  }
  if (error instanceof HastackError) {
    process.stderr.write(`error[${error.code}]: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    return 1;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`internal error (a bug in hastack, please report it):\n${message}\n`);
  return 70;
}
