import type { Command } from "commander";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("not yet available")
    .action(() => {
      process.stderr.write("hastack status: not yet available\n");
      process.exitCode = 2;
    });
}
