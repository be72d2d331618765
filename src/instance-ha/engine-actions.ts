/**
 * @module
 * The engine's bookkeeping around its actions, apart from its decisions (engine.ts): at most one
 * action per host in flight, the outcome of each fed back as an event on a later evaluation (one
 * event per host per evaluation, in order, so the state machine sees every step), the history
 * written in order without ever holding an evaluation up, and "say it once" for verdicts that
 * would otherwise be repeated every second.
 */
import type { ActionEvent } from "./signals.ts";
import type { HaEvent, HostSnapshot } from "./store-rows.ts";

/** The engine's logger (pino's signature: fields first, then the message). */
export interface EngineLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** What the engine needs of its history store; store.ts's Store satisfies it. */
export interface EngineHistory {
  record(event: HaEvent): Promise<unknown>;
  upsertHost(snapshot: HostSnapshot): Promise<void>;
  /** The hosts' snapshots, for a standby that takes over. */
  hosts(): Promise<readonly HostSnapshot[]>;
}

export type ActionKind = "fence" | "evacuate" | "reenable" | "power" | "operator-check";

export interface Actions {
  /** The action in flight for the host, if any (power reads are counted apart). */
  busy(host: string): ActionKind | undefined;
  /** Starts `run` unless one is in flight for the host; its events are queued when it settles. */
  start(host: string, kind: ActionKind, run: () => Promise<readonly ActionEvent[]>): boolean;
  queue(host: string, event: ActionEvent): void;
  /** The oldest event not yet fed to the state machine, removed from the queue. */
  take(host: string): ActionEvent | undefined;
  /** The oldest event not yet fed to the state machine, left in the queue. */
  peek(host: string): ActionEvent | undefined;
  pending(host: string): boolean;
  /** Resolves when nothing is in flight (tests; a stop that waits). */
  idle(): Promise<void>;
}

/** `settled`: called after an action's events were queued (the engine evaluates them at once). */
export function createActions(log: EngineLog, settled?: (host: string) => void): Actions {
  const inFlight = new Map<string, { kind: ActionKind; done: Promise<void> }>();
  const power = new Map<string, Promise<void>>();
  const events = new Map<string, ActionEvent[]>();

  function queue(host: string, event: ActionEvent): void {
    const list = events.get(host);
    if (list) list.push(event);
    else events.set(host, [event]);
  }

  return {
    busy: (host) => inFlight.get(host)?.kind,
    start(host, kind, run) {
      // Power reads run beside the host's other action (a BMC read does not touch Nova), but
      // never two at once for one host.
      const slots = kind === "power" ? power : inFlight;
      if (slots.has(host)) return false;
      let queued = false;
      const done = Promise.resolve()
        .then(run)
        .then(
          (outcome) => {
            for (const e of outcome) queue(host, e);
            queued = outcome.length > 0;
          },
          (error: unknown) => {
            // Each action catches what it can say something about; this is a bug's last word.
            log.warn({ host, action: kind, err: String(error) }, `${kind} of ${host} threw`);
          },
        )
        .finally(() => {
          // Once the slot is free: what the events allow next may be another action for the host.
          slots.delete(host);
          if (queued) settled?.(host);
        });
      if (kind === "power") power.set(host, done);
      else inFlight.set(host, { kind, done });
      return true;
    },
    queue,
    take(host) {
      const list = events.get(host);
      const head = list?.shift();
      if (list && list.length === 0) events.delete(host);
      return head;
    },
    peek: (host) => events.get(host)?.[0],
    pending: (host) => (events.get(host)?.length ?? 0) > 0,
    async idle() {
      while (inFlight.size > 0 || power.size > 0) {
        await Promise.all([...[...inFlight.values()].map((a) => a.done), ...power.values()]);
      }
    },
  };
}

/** History writes in order, off the evaluation's path: a slow or lost database never delays a tick. */
export function historyWriter(history: EngineHistory, log: EngineLog) {
  let chain: Promise<void> = Promise.resolve();
  function write(what: string, op: () => Promise<unknown>): void {
    chain = chain.then(op).then(
      () => undefined,
      (error: unknown) => {
        // The decision stands either way; the log keeps what the history lost.
        log.warn({ err: error instanceof Error ? error.message : String(error) }, `history: cannot ${what}`);
      },
    );
  }
  return {
    record: (event: HaEvent) => write(`record "${event.detail}"`, () => history.record(event)),
    upsertHost: (snapshot: HostSnapshot) =>
      write(`store the state of ${snapshot.host}`, () => history.upsertHost(snapshot)),
    flush: () => chain,
  };
}

/** Remembers the last verdict said per key: a gate closed for an hour is one entry, not 3,600. */
export function onceEach() {
  const said = new Map<string, string>();
  return {
    /** True when `text` differs from what was last said for `key` (and remembers it). */
    changed(key: string, text: string): boolean {
      if (said.get(key) === text) return false;
      said.set(key, text);
      return true;
    },
    forget(key: string): void {
      for (const k of said.keys()) if (k === key || k.startsWith(`${key}/`)) said.delete(k);
    },
  };
}
