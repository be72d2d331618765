import { materialize, secretsIn } from "../inventory/secrets.ts";
import type { RenderedFile } from "../services/render.ts";
import type { ServiceDef, StepContext, StepLogger } from "../services/types.ts";
import { hostByName, type Topology } from "../topology/types.ts";
import { tail } from "../transport/remote-commands.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { ExecOptions, Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import { type SharedRead, unshared } from "./shared-reads.ts";

export interface ContextInput {
  step: string;
  host: string;
  topology: Topology;
  services: readonly ServiceDef[];
  files: ReadonlyMap<string, RenderedFile[]>;
  transports: ReadonlyMap<string, Transport>;
  dryRun: boolean;
  signal: AbortSignal;
  timeoutMs: number;
  log: StepLogger;
  secrets: Readonly<Record<string, string>>;
  /** Applied to everything that leaves the step (errors, logs): literal secret values become names. */
  redact: (text: string) => string;
  /** The run's shared reads; without it every read is asked. */
  shared?: SharedRead;
}

/** Commands are shown in errors shortened: a config blob on a command line helps nobody. */
export function displayCommand(command: readonly string[] | string): string {
  const text = shellQuote(command);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function makeStepContext(input: ContextInput): StepContext {
  const transport = input.transports.get(input.host);
  if (!transport) throw new HastackError("E_NO_TRANSPORT", `No connection to ${input.host} was set up`);
  const withDefaults = (opts?: ExecOptions): ExecOptions => ({
    timeoutMs: input.timeoutMs,
    ...opts,
    signal: opts?.signal ?? input.signal,
  });
  return {
    step: input.step,
    host: hostByName(input.topology, input.host),
    topology: input.topology,
    services: input.services,
    renderedFile(path) {
      const file = input.files.get(input.host)?.find((f) => f.path === path);
      if (!file)
        throw new HastackError(
          "E_NO_RENDERED_FILE",
          `Cannot find ${path} among the files rendered for ${input.host} (step ${input.step})`,
        );
      const values = Object.fromEntries(secretsIn(file.text).map((n) => [n, this.secret(n)]));
      return materialize(file.text, values);
    },
    transport,
    peer(name) {
      const t = input.transports.get(name);
      if (!t)
        throw new HastackError(
          "E_NO_TRANSPORT",
          `Step ${input.step} on ${input.host} needs ${name}, which is not connected`,
        );
      return t;
    },
    log: input.log,
    dryRun: input.dryRun,
    signal: input.signal,
    async run(command, opts) {
      const r = await transport.exec(command, withDefaults(opts));
      if (r.code !== 0) {
        const stderr = tail(r.stderr) || tail(r.stdout);
        throw new HastackError(
          "E_STEP_COMMAND",
          input.redact(
            `Cannot apply ${input.step} on ${input.host}: \`${displayCommand(command)}\` exited with code ${r.code}${stderr ? `: ${stderr}` : ""}`,
          ),
        );
      }
      return r;
    },
    async test(command, opts) {
      return (await transport.exec(command, withDefaults(opts))).code === 0;
    },
    shared: input.shared ?? unshared,
    secret(name) {
      const value = input.secrets[name];
      if (value === undefined)
        throw new HastackError(
          "E_SECRET_MISSING",
          `Step ${input.step} needs secret ${name}, which is not in the secrets file`,
        );
      return value;
    },
  };
}
