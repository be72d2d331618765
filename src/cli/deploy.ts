import type { Command } from "commander";

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("not yet available")
    .action(() => {
      process.stderr.write("hastack deploy: not yet available\n");
      process.exitCode = 2;
    });
}
