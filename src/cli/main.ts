#!/usr/bin/env node
import { enableCompileCache } from "node:module";
import { Command } from "commander";
import { runCli } from "./run.ts";

// Every start strips and compiles the verb's TypeScript modules again: 0.5 s of CPU for `render`
// or `plan`. Node's on-disk compile cache (in the OS temp dir, as tsc uses it) skips that from the
// second run on; it never fails a run (a cache it cannot write is only not used).
enableCompileCache();

type Register = (program: Command) => void;

/**
 * Verbs load lazily: only the one being run is imported (with its dependencies), so
 * `hastack status` does not pay for the deploy engine's modules. `--help` loads them all.
 */
const verbs: Record<string, () => Promise<Register>> = {
  validate: async () => (await import("./validate.ts")).registerValidate,
  secrets: async () => (await import("./secrets.ts")).registerSecrets,
  render: async () => (await import("./render.ts")).registerRender,
  plan: async () => (await import("./plan.ts")).registerPlan,
  deploy: async () => (await import("./deploy.ts")).registerDeploy,
  status: async () => (await import("./status.ts")).registerStatus,
  diagnose: async () => (await import("./diagnose.ts")).registerDiagnose,
  recover: async () => (await import("./recover.ts")).registerRecover,
  backup: async () => (await import("./backup.ts")).registerBackup,
  smoke: async () => (await import("./smoke.ts")).registerSmoke,
  drill: async () => (await import("./drill.ts")).registerDrill,
  ha: async () => (await import("./ha.ts")).registerHa,
  lab: async () => (await import("./lab.ts")).registerLab,
  ceph: async () => (await import("./ceph.ts")).registerCeph,
  keystone: async () => (await import("./keystone.ts")).registerKeystone,
};

const program = new Command("hastack")
  .description("Deploy and operate highly available OpenStack clouds from one inventory file")
  .version("0.1.0");

const verb = process.argv.slice(2).find((arg) => !arg.startsWith("-"));
const wanted = verb !== undefined && verb in verbs ? [verb] : Object.keys(verbs);
for (const name of wanted) {
  const load = verbs[name];
  if (load) (await load())(program);
}

await runCli(program, process.argv);
