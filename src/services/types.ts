import type { ConfigDoc } from "../formats/doc.ts";
import type { ProbeSpec } from "../health/types.ts";
import type { ResolvedHost, Topology } from "../topology/types.ts";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";

/**
 * A service is data (Kolla-Ansible style): what files it renders, which HAProxy frontends and
 * Pacemaker resources it contributes, which secrets it owns, which ports it binds, and its deploy
 * steps. Generic engines (render, haproxy, cib, deploy, health) iterate the registry and never
 * name a service.
 */
export interface ServiceDef {
  id: string;
  title: string;
  /** Services that must be deployed before this one (deploy order, plan order). */
  after?: string[];
  /** Names of the hosts this service runs on; empty when it is not deployed. */
  hosts(topology: Topology): string[];
  /** Debian packages it needs on a host. */
  packages?(topology: Topology, host: ResolvedHost): string[];
  /** Secrets it owns; `hastack secrets init` generates every one of them. */
  secrets?: SecretSpec[];
  files?(ctx: RenderContext, host: ResolvedHost): FileSpec[];
  /** HAProxy listeners on the VIP that lead to this service. */
  frontends?(topology: Topology): Frontend[];
  /** Pacemaker properties, resources and constraints this service contributes to the CIB. */
  pacemaker?(topology: Topology): PacemakerContribution;
  /** Every address:port it binds on a host, for the port-collision check. */
  listens?(topology: Topology, host: ResolvedHost): Listen[];
  steps?(topology: Topology): StepSpec[];
  /** Functional health probes `hastack status` runs (src/health/types.ts). */
  health?(topology: Topology): ProbeSpec[];
}

export interface RenderContext {
  topology: Topology;
  /**
   * A placeholder standing for a secret's value. Rendered files carry placeholders; the writer
   * swaps in real values only when it writes to a host or to --out, and shows `<secret:NAME>`
   * everywhere else, so a diff or a log can never leak one.
   */
  secret(name: string): string;
}

export type SecretKind =
  | "password" /* 32 chars, letters and digits: safe in every config syntax */
  | "erlang-cookie" /* 32 uppercase letters */
  | "bytes-256" /* 256 random bytes, base64 (corosync authkey) */
  | "hex-32" /* 32 random bytes as hex (signing keys) */;

export interface SecretSpec {
  name: string;
  kind: SecretKind;
  description: string;
  /** Cut the generated value to this many characters (keepalived's auth_pass takes 8 at most). */
  length?: number;
}

export interface FileSpec {
  path: string;
  owner: string;
  group: string;
  /** Unix mode, e.g. 0o640 */
  mode: number;
  /** Text, or a structured document that inventory overrides can edit before it is written. */
  content: string | ConfigDoc;
  /** "base64": content is base64 text (after secrets are swapped in) and the file gets the bytes. */
  encoding?: "utf8" | "base64";
  /** What a change to this file needs: unit names to restart or reload (deploy engine). */
  onChange?: { restart?: string[]; reload?: string[] };
}

export interface Listen {
  address: string;
  port: number;
  proto: "tcp" | "udp";
  /** Who binds it, for error messages: "galera", "haproxy frontend keystone_api"... */
  owner: string;
}

export type HealthCheck =
  | { kind: "tcp" }
  | { kind: "http"; method?: "GET" | "HEAD" | "OPTIONS"; path: string; expect?: string }
  /** An HTTP check answered by a separate checker port (Galera's wsrep-aware checker). */
  | { kind: "http-port"; port: number; path: string };

export interface Backend {
  host: string;
  address: string;
  port: number;
  /** Used only when every non-backup backend is down (Galera: one writer, others standby). */
  backup?: boolean;
}

export interface Frontend {
  /** Section name in haproxy.cfg, e.g. "keystone_api". */
  name: string;
  service: string;
  address: string;
  port: number;
  mode: "http" | "tcp";
  balance: "roundrobin" | "source" | "leastconn" | "first";
  check: HealthCheck;
  backends: Backend[];
  /** Extra `option` lines, e.g. "forwardfor". */
  options?: string[];
  timeouts?: { client_s?: number; server_s?: number };
  /** Cookie or source stickiness for stateful UIs (Horizon, noVNC). */
  sticky?: boolean;
  /** Extra words on every `server` line, e.g. "on-marked-down shutdown-sessions" (Galera). */
  serverOptions?: string[];
}

export interface PcmkOp {
  name: "monitor" | "start" | "stop" | "promote" | "demote";
  interval_s: number;
  timeout_s: number;
}

export interface PcmkPrimitive {
  id: string;
  class: "ocf" | "stonith" | "systemd" | "lsb";
  provider?: string;
  type: string;
  params: Record<string, string>;
  meta?: Record<string, string>;
  ops: PcmkOp[];
}

export interface PcmkClone {
  id: string;
  primitive: PcmkPrimitive;
  meta?: Record<string, string>;
}

export type PcmkConstraint =
  | { kind: "colocation"; id: string; rsc: string; withRsc: string; score: string }
  | { kind: "order"; id: string; first: string; then: string; orderKind: "Mandatory" | "Optional" }
  | { kind: "location"; id: string; rsc: string; node: string; score: string };

export interface PacemakerContribution {
  properties?: Record<string, string>;
  rscDefaults?: Record<string, string>;
  primitives?: PcmkPrimitive[];
  clones?: PcmkClone[];
  constraints?: PcmkConstraint[];
}

/**
 * A deploy step: `check` says whether the host is already in the wanted state, `apply` gets it
 * there. The engine runs check, then apply only when check says no, then check again to prove it
 * converged. `src/deploy/actions.ts` builds common steps (packages, units, commands) from data.
 */
export interface StepSpec {
  /** Unique within its service; the engine names it `<service>.<id>` (journal, errors, `after`). */
  id: string;
  title: string;
  /** each: every host of `hosts` in parallel; bootstrap: once on the bootstrap node; serial: one host at a time. */
  on: "each" | "bootstrap" | "serial";
  /** Hosts the step runs on; defaults to the service's hosts. */
  hosts?: string[];
  /**
   * Steps that must finish first: `service.step`, a step id of the same service, or a service id
   * (all of its steps). Between two `each` steps the wait is per host; otherwise it waits for
   * every host.
   */
  after?: string[];
  /** Already in the wanted state? Without it the step applies on every run (and counts as changed). */
  check?(ctx: StepContext): Promise<boolean>;
  apply?(ctx: StepContext): Promise<void>;
  /** Extra attempts after a failure. @default 0 */
  retries?: number;
  /** @default 2000 */
  retryDelayMs?: number;
  /** Per attempt (check + apply + re-check). @default 600_000 */
  timeoutMs?: number;
}

/** What a step sees while it runs on one host. */
export interface StepContext {
  /** Qualified step id, e.g. "galera.bootstrap". */
  step: string;
  host: ResolvedHost;
  topology: Topology;
  transport: Transport;
  /** The transport of another host of the topology (a join waits for a peer, say). */
  peer(name: string): Transport;
  log: StepLogger;
  /** True under --dry-run: check runs, apply never does. */
  dryRun: boolean;
  /** Aborted when the step times out. */
  signal: AbortSignal;
  /** Runs a command; throws a HastackError naming host, step, command, exit code and stderr tail on a non-zero exit. */
  run(command: string[] | string, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a command and says whether it exited 0 (for checks). */
  test(command: string[] | string, opts?: ExecOptions): Promise<boolean>;
  /** Secret values by name, for steps that must pass one to a command (pass it on stdin, never in argv). */
  secret(name: string): string;
}

export interface StepLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}
