import type { z } from "zod";
import type { ConfigDoc } from "../formats/doc.ts";
import type { ProbeSpec } from "../health/types.ts";
import type { Role } from "../inventory/schema.ts";
import type { SecretEncoding } from "../inventory/secrets.ts";
import type { ResolvedHost, Topology } from "../topology/types.ts";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";
import type { Problem } from "../util/errors.ts";

/**
 * A service is data (Kolla-Ansible style): what files it renders, which HAProxy frontends and
 * Pacemaker resources it contributes, which secrets, settings, endpoints and ports it owns, and
 * its deploy steps and health probes. Generic engines (inventory schema, render, haproxy, cib,
 * deploy, health) receive the services they work on and never name one. Adding a service is a
 * folder under src/services/ and one line in the registry (src/services/registry.ts), which only
 * the program's entry points (the CLI, benches, tests) import.
 */
export interface ServiceDef {
  id: string;
  title: string;
  /**
   * implemented: hastack deploys it and checks it. declared: its data (secrets, settings,
   * endpoints, step names) exists ahead of the issue that implements it; it installs nothing,
   * gets no HAProxy frontend, and plan, deploy and status show it as "not implemented".
   */
  state: ServiceState;
  /**
   * "openstack": turned on by `services.openstack.enabled` (whose allowed values are the ids of
   * such services). Without it the service is part of the base layer and always on.
   */
  group?: "openstack";
  /** Services that must be enabled too (validated transitively; a positional inventory error). */
  requires?: string[];
  /**
   * Services whose steps must finish before this one's start (deploy order). A graph, not a
   * chain: ordering through a disabled service still holds (A after B after C, B off: A after C).
   */
  after?: string[];
  /** Inventory settings it owns: `services.<key>` validated by the schema (defaults applied). */
  settings?: Readonly<Record<string, SettingsSchema>>;
  /** API endpoints it serves: the topology's endpoint catalogue is assembled from these. */
  endpoints?: EndpointSpec[];
  /** Its parts by host role, with their packages and units (lab image and host packages). */
  components?: Component[];
  /** Names of the hosts this service runs on; empty when it is not deployed. */
  hosts(topology: Topology): string[];
  /** Debian packages it needs on a host, beyond those of its components. */
  packages?(topology: Topology, host: ResolvedHost): string[];
  /** Secrets it owns; `hastack secrets init` generates every one of them. */
  secrets?: SecretSpec[];
  /** Semantic checks of its own settings a schema cannot express (validate reports them). */
  check?(inventory: InventoryView): Omit<Problem, "pos">[];
  files?(ctx: RenderContext, host: ResolvedHost): FileSpec[];
  /** HAProxy listeners on the VIP that lead to this service. */
  frontends?(topology: Topology): Frontend[];
  /** Pacemaker properties, resources and constraints this service contributes to the CIB. */
  pacemaker?(topology: Topology): PacemakerContribution;
  /** Every address:port it binds on a host, for the port-collision check. */
  listens?(topology: Topology, host: ResolvedHost): Listen[];
  /** Its deploy steps; `services` is the whole site (a step may wait for what others contribute). */
  steps?(topology: Topology, services: readonly ServiceDef[]): StepSpec[];
  /**
   * Functional health probes `hastack status` runs (src/health/types.ts); `services` is the whole
   * site, for a probe that compares the live state with what hastack renders (the CIB).
   */
  health?(topology: Topology, services?: readonly ServiceDef[]): ProbeSpec[];
  /** What `hastack diagnose` gathers from its hosts for one incident (src/ops/diagnose). */
  diagnostics?(topology: Topology): DiagnosticSpec[];
}

/**
 * One thing an operator looks at first after an incident (the book's ch. 13): a read-only
 * command run on each of `hosts` at once, its output kept for the report, secrets masked.
 */
export interface DiagnosticSpec {
  /** Unique within its service; the file name in the tarball: `<host>/<service>-<id>.txt`. */
  id: string;
  title: string;
  /** Hosts to ask; defaults to the service's hosts. */
  hosts?: string[];
  /** The command for a window of time (journalctl's --since/--until form: "2026-12-02 04:20:00 UTC"). */
  argv(window: { since: string; until: string }): string[];
  /** @default 30_000 */
  timeoutMs?: number;
}

export type ServiceState = "implemented" | "declared";

/** A zod object schema for one `services.<key>` block; every field has a default or is optional. */
export type SettingsSchema = z.ZodObject;

/** The inventory as a service's check sees it: its settings block and the hosts. */
export interface InventoryView {
  settings: Readonly<Record<string, unknown>>;
  hosts: Readonly<Record<string, { roles: Role[]; bmc?: unknown }>>;
  vipManager: string;
  enabled: readonly string[];
  waivers: Readonly<Record<string, string | undefined>>;
}

export interface EndpointSpec {
  /** Endpoint id in topology.endpoints: the service id for its main API ("nova-metadata"...). */
  id: string;
  port: number;
  /** URL path suffix, e.g. "/v3" for Keystone. */
  path: string;
  /** The public port when the site has TLS there, if not `port` (Horizon: 443 instead of 80). */
  tlsPort?: number;
}

export interface Component {
  /** e.g. "nova-api", "nova-compute". */
  name: string;
  /** Hosts of this role run it (when the service runs there). */
  role: Role;
  packages: string[];
  /** systemd units hastack manages for it (enabled by deploy, never at image build). */
  units: string[];
}

export interface RenderContext {
  topology: Topology;
  /** Every service of the site (HAProxy renders their frontends, Pacemaker their resources). */
  services: readonly ServiceDef[];
  /**
   * A placeholder standing for a secret's value. Rendered files carry placeholders; the writer
   * swaps in real values only when it writes to a host or to --out, and shows `<secret:NAME>`
   * everywhere else, so a diff or a log can never leak one.
   */
  secret(name: string, encoding?: SecretEncoding): string;
}

export type SecretKind =
  | "password" /* 32 chars, letters and digits: safe in every config syntax */
  | "erlang-cookie" /* 32 uppercase letters */
  | "bytes-256" /* 256 random bytes, base64 (corosync authkey) */
  | "hex-32" /* 32 random bytes as hex (signing keys) */
  | "cephx-key" /* a Ceph auth key: base64 of Ceph's 12-byte header + 16 random bytes ("AQ...==") */;

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
  /**
   * Where clients outside reach it, when not `address:port`: the public VIP (the public URL's
   * port), with TLS terminated by HAProxy when the site has it there.
   */
  publicBind?: {
    address: string;
    port: number;
    tls: boolean;
    /** A plain-HTTP port on the public VIP that answers with a redirect to https (Horizon's 80). */
    redirectFrom?: number;
  };
  mode: "http" | "tcp";
  balance: "roundrobin" | "source" | "leastconn" | "first";
  check: HealthCheck;
  backends: Backend[];
  /** Extra `option` lines, e.g. "forwardfor". */
  options?: string[];
  timeouts?: { client_s?: number; server_s?: number };
  /** Cookie or source stickiness for stateful UIs (Horizon, noVNC). */
  sticky?: boolean;
  /**
   * The health check's interval on this listener when it must differ from the site's: a backend
   * that forks a process per connection (noVNC's websockify) pays for every check.
   */
  checkInter_ms?: number;
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

/**
 * A Pacemaker alert agent: a program every cluster node runs (as the hacluster user, with the
 * event in CRM_alert_* variables) when one of the selected kinds of event happens.
 */
export interface PcmkAlert {
  id: string;
  path: string;
  select: ("fencing" | "nodes" | "resources")[];
  /** How long Pacemaker lets the agent run before it kills it. @default 30 */
  timeout_s?: number;
}

export interface PacemakerContribution {
  /**
   * Steps that install and configure the units these resources run (`haproxy.unit`): the CIB
   * that holds the resources is loaded only after them, so Pacemaker never starts a unit that
   * does not exist yet.
   */
  after?: string[];
  properties?: Record<string, string>;
  rscDefaults?: Record<string, string>;
  primitives?: PcmkPrimitive[];
  clones?: PcmkClone[];
  constraints?: PcmkConstraint[];
  alerts?: PcmkAlert[];
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
  /** Every service of the site. */
  services: readonly ServiceDef[];
  /** A file rendered for this host, secrets swapped in (to validate it before it is written). */
  renderedFile(path: string): string;
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
  /**
   * A read the checks of this run share, by key (name the host in it): the first caller runs
   * `read`, the others get its answer, until anything applies (src/deploy/shared-reads.ts). For
   * reads that cost (an Erlang VM per rabbitmqctl); never for a read whose answer a step changes
   * and then reads again within its own apply (none is shared while an apply runs).
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
}

export interface StepLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}
