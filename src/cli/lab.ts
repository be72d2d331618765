import type { Command } from "commander";

export function registerLab(program: Command): void {
  program
    .command("lab")
    .description("not yet available")
    .action(() => {
      process.stderr.write("hastack lab: not yet available\n");
      process.exitCode = 2;
    });
}
