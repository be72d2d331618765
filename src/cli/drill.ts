import type { Command } from "commander";

export function registerDrill(program: Command): void {
  program
    .command("drill")
    .description("not yet available")
    .action(() => {
      process.stderr.write("hastack drill: not yet available\n");
      process.exitCode = 2;
    });
}
