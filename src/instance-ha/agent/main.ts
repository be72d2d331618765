/**
 * @module
 * hastack-agent's entry point, run by systemd on every compute (hastack-agent.service):
 *   node main.ts [--config /etc/hastack/agent.json]
 * Logs are pino's JSON lines on stdout (the journal). SIGTERM and SIGINT stop it cleanly.
 * A config it cannot use is an error on stderr and exit code 78 (EX_CONFIG); systemd restarts
 * it all the same (Restart=always), so a fixed file is picked up without a hand.
 *
 * Importing this module runs the agent: it is an entry point, like src/cli/main.ts.
 */
import { pino } from "pino";
import { HastackError } from "../../util/errors.ts";
import { type Agent, startAgent } from "./agent.ts";
import { AGENT_CONFIG_PATH, type AgentSettings, loadAgentConfig } from "./config.ts";
import { observe, spawnRunner, tcpProbe } from "./observe.ts";

const EX_CONFIG = 78;

function configPath(argv: readonly string[]): string {
  const at = argv.indexOf("--config");
  return at >= 0 && argv[at + 1] ? (argv[at + 1] as string) : AGENT_CONFIG_PATH;
}

async function main(): Promise<void> {
  const log = pino({ name: "hastack-agent", base: undefined });
  // Handlers first: a SIGTERM while the config loads or the sockets bind must still stop it
  // cleanly (exit 0), not kill it mid-write of the epoch file.
  let agent: Agent | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    // exitCode, not exit(): pino's stdout writes are flushed when the loop drains.
    void (agent?.stop() ?? Promise.resolve()).then(() => {
      process.exitCode = 0;
    });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));

  let settings: AgentSettings;
  try {
    settings = loadAgentConfig(configPath(process.argv.slice(2)));
  } catch (error) {
    if (!(error instanceof HastackError)) throw error;
    log.error({ code: error.code, hint: error.hint }, error.message);
    process.exitCode = EX_CONFIG;
    return;
  }
  if (stopping) return;
  const deps = { run: spawnRunner(), connect: tcpProbe() };
  agent = await startAgent({ settings, log, observe: () => observe(settings.probes, deps) });
  // Stopped while it started: stop() ran before there was an agent to stop.
  if (stopping) await agent.stop();
}

await main();
