/**
 * @module
 * An OpenStack service as data (Kolla-Ansible's one block per service): what it needs from the
 * base layer (a database on Galera, a RabbitMQ user, a Keystone service user, service and
 * endpoints, the shared oslo sections, WSGI vhosts) is declared here and carried out by shared
 * steps and renderers in this folder, so a service folder holds only what is its own.
 */
import type { DocSection } from "../../formats/doc.ts";
import type { ProbeSpec } from "../../health/types.ts";
import type { Role } from "../../inventory/schema.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import type { Problem } from "../../util/errors.ts";
import type {
  Component,
  EndpointSpec,
  FileSpec,
  Frontend,
  HealthCheck,
  InventoryView,
  PacemakerContribution,
  RenderContext,
  SecretSpec,
  ServiceDef,
  ServiceState,
  SettingsSchema,
  StepSpec,
} from "../types.ts";
import type { SchemaMemo } from "./schema-memo.ts";

export interface ApiListener {
  /** Endpoint id (one of the service's `endpoints`). */
  endpoint: string;
  /** haproxy.cfg section name. */
  name: string;
  /** What HAProxy and the status probe ask: the API, not the port. */
  check: HealthCheck;
  sticky?: boolean;
  mode?: "http" | "tcp";
  timeouts?: Frontend["timeouts"];
  checkInter_ms?: Frontend["checkInter_ms"];
  /** What the backend speaks, for the status probe (a TLS listener passes through as TCP). @default "http" */
  scheme?: "http" | "https";
  /**
   * Clients outside the management network reach it on the public VIP (TLS there when the site
   * has it). false for what only the site itself asks (Nova's metadata API). @default true
   */
  public?: boolean;
  /**
   * Keep the sessions to a backend HAProxy marks down. By default they are cut
   * (`on-marked-down shutdown-sessions`): a request in flight to a controller that lost power
   * otherwise waits for `timeout server` (10 min), as a port update from nova-compute did in a
   * drill; cut, the client retries on a survivor. Glance keeps them: an image upload outlives a
   * health check that fails under load. @default false
   */
  keepSessionsOnDown?: boolean;
}

/** The shared oslo sections a config file gets, each rendered from the site (src/services/openstack/oslo.ts). */
export type OsloSection =
  | "database"
  | "keystone_authtoken"
  | "oslo_messaging_rabbit"
  | "oslo_concurrency"
  | "cache"
  | "coordination";

export interface ServiceConfigFile {
  path: string;
  owner: string;
  group: string;
  sections: OsloSection[];
  /**
   * Hosts of these roles get the file (when the service runs there). @default ["controller"]:
   * database and service credentials stay off computes unless a file says otherwise.
   */
  roles?: Role[];
  /** The service's own sections ([DEFAULT] options, [glance_store]...), merged with the shared ones. */
  own?(ctx: RenderContext, host: ResolvedHost): DocSection[];
  /** Units restarted when the file changes. */
  restart: string[];
}

/**
 * An API served by Debian's uwsgi unit (openstack-pkg-tools init script: keystone, placement-api,
 * nova-api, nova-api-metadata, neutron-api, cinder-api in trixie). The script builds
 * `--http-socket :PORT` (every address, which collides with HAProxy on the VIP) and then sources
 * /etc/default/<defaults>; hastack renders that file to bind the management address instead.
 */
export interface UwsgiApp {
  kind: "uwsgi";
  /** systemd unit restarted when the file changes. */
  unit: string;
  /** The init script's $NAME, whose /etc/default file it sources (neutron-api's is neutron-server). */
  defaults: string;
  /** Endpoint id whose port the app listens on. */
  endpoint: string;
  /** The uwsgi ini the package ships, e.g. /etc/cinder/cinder-api-uwsgi.ini. */
  ini: string;
  processes: number;
  threads: number;
  /** Environment for the app's workers (uwsgi --env), e.g. what turns eventlet off. */
  env?: Record<string, string>;
}

/** An Apache mod_wsgi site rendered by hastack (never a sed-patched package vhost: E32). */
export interface ApacheVhost {
  kind: "apache";
  /** /etc/apache2/sites-enabled/<name>.conf */
  name: string;
  /** Endpoint id whose port the vhost listens on (the host's management address, never 0.0.0.0). */
  endpoint: string;
  /** The WSGI script the package ships, e.g. /usr/share/openstack-dashboard/wsgi.py. */
  script: string;
  /** URL path the application is mounted at, e.g. "/horizon". */
  urlPath: string;
  /** Static files served by Apache itself: URL path and directory. */
  static?: { urlPath: string; dir: string };
  user: string;
  group: string;
  processes: number;
  threads: number;
}

export type WsgiServer = UwsgiApp | ApacheVhost;

/**
 * How a service's manage tool says whether its schema is current, without changing it.
 * exit-code: the tool has a check of its own (`glance-manage db check`: 0 current, 3/4/5 an
 * expand, migrate or contract is due). alembic-head: it has none (placement-manage can only print
 * the stored revision), so the stored alembic revision is compared with the head the installed
 * code knows, printed by `head` (reading the migration scripts, not the database).
 */
export type SchemaCheck =
  | { kind: "exit-code"; argv: string[]; current: number; behind: number[] }
  | { kind: "alembic-head"; current: string[]; head: string[] };

/** The schema sync, once on the bootstrap controller, skipped while the check says it is current. */
export interface SchemaSync {
  /** Runs check and apply as this user: as root they would leave root-owned logs the service cannot open. */
  user: string;
  check: SchemaCheck;
  /** What the schema's state depends on: the check runs again only when it changed (schema-memo.ts). */
  memo: SchemaMemo;
  /** The sync itself, e.g. ["placement-manage", "db", "sync"]. */
  apply: string[];
  /** Migrations on a large database take long. @default 900_000 */
  timeoutMs?: number;
}

/** What the API answers, unauthenticated, on a controller's management address when it is up. */
export interface ApiAnswer {
  /** Endpoint id whose port is asked. */
  endpoint: string;
  path: string;
  /** The status the API really gives there (placement 200 at /, glance 300 Multiple Choices). */
  status: number;
}

/** The API's units started and enabled on every controller, then asked until they answer. */
export interface ApiStart {
  units: string[];
  answers: ApiAnswer;
}

/** A request through the VIP with a token of the service's own user, and the status it must get. */
export interface TokenRequest {
  endpoint: string;
  /** Appended to the endpoint's internal URL, e.g. "/v2/images". */
  path: string;
  status: number;
}

export interface OpenStackServiceSpec {
  id: string;
  title: string;
  state: ServiceState;
  requires: string[];
  after: string[];
  endpoints: EndpointSpec[];
  listeners: ApiListener[];
  components: Component[];
  /** Secrets of its own, beyond the generated db_/svc_/rabbit_<id> ones. */
  secrets?: SecretSpec[];
  settings?: Readonly<Record<string, SettingsSchema>>;
  /** Databases on Galera, all owned by the MariaDB user <id> (password secret db_<id>). */
  database?: {
    names: string[];
    /**
     * Which config section names which database. @default [{ section: "database", name: names[0] }]
     * (placement reads [placement_database]; nova reads [api_database] and [database]).
     */
    sections?: { section: string; name: string }[];
  };
  /** A RabbitMQ user <id> on the OpenStack vhost (password secret rabbit_<id>). */
  amqp?: boolean;
  /**
   * Keystone: the service user <id> (password svc_<id>) with the admin role in the service
   * project (plus `roles`), and the catalogue entry of `type` with public, internal and admin
   * endpoints of `endpoint` on the VIP.
   */
  identity?: { type: string; description: string; endpoint: string; roles?: string[] };
  config?: ServiceConfigFile[];
  wsgi?: WsgiServer[];
  /** Files of its own beyond its config files and WSGI servers (an /etc/default a package reads). */
  files?(ctx: RenderContext, host: ResolvedHost): FileSpec[];
  /**
   * Its own steps (db sync, cells...); the shared ones are added around them. A step with only
   * id and title is a name: plan and deploy show it as not implemented, unless `sync` or `start`
   * makes the step of that id ("db-sync", "start"): that one then takes the name's place and
   * `after` (without a name, it comes before these steps). A function of the site when steps run
   * on hosts of one role only (nova's on the computes).
   */
  steps?: StepSpec[] | ((topology: Topology) => StepSpec[]);
  /** What it adds to the controllers' Pacemaker configuration (an alert agent). */
  pacemaker?(topology: Topology): PacemakerContribution;
  /** The schema sync, as step "db-sync" (src/services/openstack/sync-step.ts). */
  sync?: SchemaSync;
  /** Its API started on every controller, as step "start" (src/services/openstack/start-step.ts). */
  start?: ApiStart;
  /** Status: this request through the VIP with a token of its service user (health.ts). */
  tokenProbe?: TokenRequest;
  /** Its own status probes beyond the shared ones (a storage backend reachable...). */
  health?(topology: Topology, services?: readonly ServiceDef[]): ProbeSpec[];
  /** Semantic inventory checks of its own (a backend it needs configured). */
  check?(inventory: InventoryView): Omit<Problem, "pos">[];
}
