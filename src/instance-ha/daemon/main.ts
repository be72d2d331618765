/**
 * @module
 * hastack-engine's entry point, run by Pacemaker on one controller at a time (the
 * `hastack-engine` resource, systemd class: services/instance-ha/engine-files.ts):
 *   node main.ts [--config /etc/hastack/engine.json] [--secrets /etc/hastack/engine-secrets.json]
 * Pacemaker is the "exactly one" (it runs the resource only in the quorate partition, and fences
 * a node that cannot stop it); the engine asks corosync itself before every fence all the same.
 *
 * Start: config and secrets checked (exit 78, EX_CONFIG, on a bad file), the history store
 * opened (retried until it opens: a Galera still syncing after a controller boot is no reason to
 * fail over), the heartbeat sockets bound, every host resumed from its snapshot (a standby
 * taking over finishes what the last engine started), then one evaluation a second. SIGTERM
 * stops the loop, waits for the actions in flight, and exits 0.
 *
 * Importing this module runs the engine: it is an entry point, like src/cli/main.ts.
 */
import { pino } from "pino";
import { HastackError } from "../../util/errors.ts";
import { createEngine } from "../engine.ts";
import { createVerifier, type VerifierStats } from "../heartbeat.ts";
import { createHaMetrics } from "../http/metrics.ts";
import { startHaHttp } from "../http/server.ts";
import { startNativeReceiver } from "../native/native-receiver.ts";
import { alertingHistory } from "../notify/alerting-history.ts";
import { createNotifier } from "../notify/notifier.ts";
import { type Receiver, startReceiver } from "../receiver.ts";
import { openStore, type Store } from "../store.ts";
import { ENGINE_CONFIG_PATH, ENGINE_SECRETS_PATH, loadEngineConfig, loadEngineSecrets } from "./config.ts";
import { daemonDeps } from "./deps.ts";

const EX_CONFIG = 78;

function flag(argv: readonly string[], name: string, fallback: string): string {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] ? (argv[at + 1] as string) : fallback;
}

/**
 * Until it opens, however long: an engine that exits is restarted by Pacemaker and, after a few
 * failures, banned from the node, while one that waits starts the moment Galera (or its
 * database, on a first deploy) is there. It watches nothing meanwhile: without its history it
 * could not tell a host it already fenced from a new failure.
 */
async function openWithRetry(open: () => Promise<Store>, log: pino.Logger, stopping: () => boolean) {
  let lastSaid = Number.NEGATIVE_INFINITY;
  for (let pause = 1000; ; pause = Math.min(pause * 2, 10_000)) {
    try {
      return await open();
    } catch (error) {
      if (stopping()) throw error;
      if (performance.now() - lastSaid > 30_000) {
        log.warn({ err: String(error) }, "the history store cannot be opened yet; retrying");
        lastSaid = performance.now();
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/**
 * The heartbeat receiver: the native one (hb-recv, shipped beside the engine) when the config
 * names it and it starts, else Node's own sockets, with a warning: the engine must hear the
 * computes either way, and Node's receiver does the same checks at more CPU. A native receiver
 * that dies later leaves the engine deaf: it stops, exit code 1, and Pacemaker starts another.
 */
async function listen(
  config: ReturnType<typeof loadEngineConfig>,
  siteSecret: string,
  log: pino.Logger,
  onFailure: () => void,
): Promise<{ receiver: Receiver; stats: () => VerifierStats }> {
  const hosts = new Map(config.computes.map((c) => [c.name, c.addresses]));
  if (config.receiver_program) {
    try {
      const native = await startNativeReceiver({
        program: config.receiver_program,
        binds: config.listen,
        site: config.site,
        siteSecret,
        hosts,
        onFailure: (error) => {
          log.error({ code: error.code }, error.message);
          onFailure();
        },
      });
      log.info({ program: config.receiver_program, pid: native.pid }, "native heartbeat receiver started");
      return { receiver: native, stats: () => native.stats() };
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "the native heartbeat receiver did not start: Node receives the heartbeats itself",
      );
    }
  }
  const verifier = createVerifier({ site: config.site, siteSecret, hosts });
  return { receiver: await startReceiver({ binds: config.listen, verifier }), stats: () => verifier.stats() };
}

async function main(): Promise<void> {
  const log = pino({ name: "hastack-engine", base: undefined });
  const argv = process.argv.slice(2);
  let stopping = false;
  let stop: () => Promise<void> = async () => {};
  const onSignal = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    void stop().then(() => {
      process.exitCode = exitCode;
    });
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));

  let config: ReturnType<typeof loadEngineConfig>;
  let secrets: ReturnType<typeof loadEngineSecrets>;
  try {
    config = loadEngineConfig(flag(argv, "--config", ENGINE_CONFIG_PATH));
    secrets = loadEngineSecrets(flag(argv, "--secrets", ENGINE_SECRETS_PATH));
  } catch (error) {
    if (!(error instanceof HastackError)) throw error;
    log.error({ code: error.code, hint: error.hint }, error.message);
    process.exitCode = EX_CONFIG;
    return;
  }

  let store: Store;
  try {
    store = await openWithRetry(
      () =>
        openStore({
          host: config.store.host,
          port: config.store.port,
          ...(config.store.socket_path ? { socketPath: config.store.socket_path } : {}),
          user: config.store.user,
          database: config.store.database,
          password: secrets.store_password,
          engine: config.node,
        }),
      log,
      () => stopping,
    );
  } catch (error) {
    if (stopping) return; // SIGTERM while waiting for the database: nothing to stop yet
    throw error;
  }
  const { receiver, stats } = await listen(config, secrets.site_secret, log, () =>
    onSignal("the heartbeat receiver failed", 1),
  );
  const deps = daemonDeps({ config, secrets, receiver, store, log });
  // Not awaited: a Keystone that is down must not keep the engine from watching; every call
  // logs in again until one succeeds.
  deps.ready().catch((e: unknown) => log.warn({ err: String(e) }, "no Keystone login yet"));
  // The history the engine writes goes through the alerts and the metrics on its way to Galera.
  const notifier = createNotifier(config.notify, {
    site: config.site,
    log,
    secret: (name) => (name === config.notify.smtp?.password_secret ? secrets.smtp_password : undefined),
  });
  const metrics = createHaMetrics();
  const history = metrics.observeHistory(alertingHistory(store, notifier, config.notify));
  const engine = createEngine({ ...deps, history }, config.engine);
  // Pacemaker runs one engine per site, so the process that answers is the one placed to act;
  // it acts once it has resumed every host (start() below) and no longer once it is stopping.
  let acting = false;
  const http = await startHaHttp({
    address: config.api.address,
    port: config.api.port,
    store,
    metrics,
    log,
    source: {
      states: () => engine.states(),
      heartbeats: () => receiver.hosts,
      now: () => performance.now(),
      verifier: stats,
      leader: () => acting && !stopping,
      dryRun: config.engine.dry_run ?? false,
    },
  });
  stop = async () => {
    acting = false;
    await engine.stop();
    await http.close();
    await notifier.flush();
    await receiver.close();
    await store.close();
  };
  if (stopping) return void (await stop());
  // start() resumes every host from its snapshot first.
  await engine.start();
  acting = true;
  log.info(
    { node: config.node, computes: config.computes.length, dryRun: config.engine.dry_run ?? false },
    "engine active",
  );
}

await main();
