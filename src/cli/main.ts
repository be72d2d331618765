#!/usr/bin/env node
import { Command } from "commander";
import { registerDeploy } from "./deploy.ts";
import { registerLab } from "./lab.ts";
import { registerPlan } from "./plan.ts";
import { registerRender } from "./render.ts";
import { runCli } from "./run.ts";
import { registerSecrets } from "./secrets.ts";
import { registerStatus } from "./status.ts";
import { registerValidate } from "./validate.ts";

const program = new Command("hastack")
  .description("Deploy and operate highly available OpenStack clouds from one inventory file")
  .version("0.1.0");

for (const register of [
  registerValidate,
  registerSecrets,
  registerRender,
  registerPlan,
  registerDeploy,
  registerStatus,
  registerLab,
]) {
  register(program);
}

await runCli(program, process.argv);
