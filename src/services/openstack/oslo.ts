/**
 * @module
 * The oslo sections every OpenStack service shares, rendered from the site: one typed renderer
 * per section, so nova.conf and cinder.conf cannot drift apart (the runbook's mixed auth URLs and
 * domain spellings, E21) and no service repeats the base layer's addresses.
 */
import type { DocEntry, DocSection } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { vipFor } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { ETCD_CLIENT_PORT } from "../etcd/index.ts";
import { haproxySettings } from "../haproxy/settings.ts";
import { controllers } from "../hosts.ts";
import { MEMCACHED_PORT } from "../memcached/index.ts";
import { rabbitmqSettings } from "../rabbitmq/settings.ts";
import type { RenderContext } from "../types.ts";
import type { OsloSection } from "./spec.ts";

/** What a shared section needs to know about the service it is rendered for. */
export interface OsloService {
  id: string;
  /** Config sections with a database connection, and the database each names. */
  databases: { section: string; name: string }[];
}

export const AMQP_PORT = 5672;
/** The MariaDB frontend's id: its HAProxy timeouts bound how long a pooled connection may idle. */
const DATABASE_SERVICE = "galera";
const MYSQL_PORT = 3306;

/** Names of the secrets a service's shared sections and steps use. */
export function secretNames(id: string): { database: string; identity: string; amqp: string } {
  return { database: `db_${id}`, identity: `svc_${id}`, amqp: `rabbit_${id}` };
}

/** Every shared section, keyed by the section name it is written as. */
export function osloSections(
  ctx: RenderContext,
  host: ResolvedHost,
  service: OsloService,
  wanted: readonly OsloSection[],
): DocSection[] {
  const out: DocSection[] = [];
  for (const name of wanted) out.push(...renderers[name](ctx, host, service));
  return out;
}

const renderers: Record<
  OsloSection,
  (ctx: RenderContext, host: ResolvedHost, service: OsloService) => DocSection[]
> = {
  database: (ctx, _host, service) => databaseSections(ctx, service),
  keystone_authtoken: (ctx, _host, service) => [keystoneAuthtoken(ctx, service.id)],
  oslo_messaging_rabbit: (ctx, _host, service) => messaging(ctx, service.id),
  oslo_concurrency: (_ctx, _host, service) => [
    { name: "oslo_concurrency", entries: [["lock_path", `/var/lib/${service.id}/tmp`]] },
  ],
  cache: (ctx) => [cacheSection(ctx.topology)],
  coordination: (_ctx, host) => [
    // This host's own etcd member (it listens on the management address): tooz's etcd3gw driver
    // takes one URL, and a controller whose etcd is down is a controller that is going away.
    { name: "coordination", entries: [["backend_url", `etcd3+http://${host.ip}:${ETCD_CLIENT_PORT}`]] },
  ],
};

/**
 * Through the database VIP (HAProxy sends every writer to one Galera node). Connections are
 * recycled before HAProxy's idle timeout on that frontend cuts them, so a pooled connection is
 * never found dead at the first query after a quiet hour.
 */
export function databaseSections(ctx: RenderContext, service: OsloService): DocSection[] {
  if (service.databases.length === 0)
    throw new HastackError(
      "E_OPENSTACK_SPEC",
      `Cannot render [database] for ${service.id}: it declares no database`,
    );
  const { topology } = ctx;
  const password = ctx.secret(secretNames(service.id).database);
  const address = vipFor(topology, DATABASE_SERVICE);
  return service.databases.map(({ section, name }) => ({
    name: section,
    entries: [
      [
        "connection",
        `mysql+pymysql://${service.id}:${password}@${address}:${MYSQL_PORT}/${name}?charset=utf8mb4`,
      ],
      // Retry forever at start: a controller that boots before Galera has a Primary waits for it.
      ["max_retries", "-1"],
      ["connection_recycle_time", String(recycleSeconds(ctx))],
    ],
  }));
}

/** Seconds a pooled connection lives: well under HAProxy's idle timeout on the database frontend. */
export function recycleSeconds(ctx: RenderContext): number {
  const h = haproxySettings(ctx.topology).timeouts;
  const frontend = ctx.services
    .find((s) => s.id === DATABASE_SERVICE)
    ?.frontends?.(ctx.topology)
    .find((f) => f.port === MYSQL_PORT);
  const idle = Math.min(
    frontend?.timeouts?.client_s ?? h.client_s,
    frontend?.timeouts?.server_s ?? h.server_s,
  );
  // oslo.db's own default (3600 s) when HAProxy allows it, else a margin of a tenth below.
  return Math.max(1, Math.min(3600, Math.floor(idle * 0.9)));
}

/** The Keystone endpoint every service authenticates against; requires makes it exist. */
function keystoneEndpoint(topology: Topology, service: string) {
  const endpoint = topology.endpoints.keystone;
  if (!endpoint)
    throw new HastackError(
      "E_OPENSTACK_SPEC",
      `Cannot render [keystone_authtoken] for ${service}: keystone is not enabled`,
      { hint: `${service} requires keystone: add it to services.openstack.enabled` },
    );
  return endpoint;
}

/** scheme://host:port without the version path: keystoneauth discovers /v3 itself (E21). */
function origin(url: string): string {
  return new URL(url).origin;
}

export function memcachedServers(topology: Topology): string {
  return controllers(topology)
    .map((h) => `${h.ip}:${MEMCACHED_PORT}`)
    .join(",");
}

export function keystoneAuthtoken(ctx: RenderContext, id: string): DocSection {
  const { topology } = ctx;
  const keystone = keystoneEndpoint(topology, id);
  return {
    name: "keystone_authtoken",
    entries: [
      ["www_authenticate_uri", origin(keystone.public)],
      ["auth_url", origin(keystone.internal)],
      ["region_name", topology.openstack.region],
      ["memcached_servers", memcachedServers(topology)],
      // A powered-off controller's memcached answers nothing: each token lookup that hashes to it
      // waited 3 s (the default) before asking Keystone, and the APIs' workers queued up behind
      // those waits (controller-poweroff-under-load: Nova down 53 s, Neutron 33 s).
      ["memcache_pool_socket_timeout", "1"],
      // Cached tokens are encrypted and signed: memcached has no authentication of its own.
      ["memcache_security_strategy", "ENCRYPT"],
      ["memcache_secret_key", ctx.secret("memcache_secret_key")],
      ["auth_type", "password"],
      ["project_domain_name", "Default"],
      ["user_domain_name", "Default"],
      ["project_name", "service"],
      ["username", id],
      ["password", ctx.secret(secretNames(id).identity)],
      ["service_token_roles_required", "true"],
    ],
  };
}

/**
 * A keystoneauth client section ([placement], [neutron], [service_user]...): the service calls
 * another API as its own service user, never with another service's password. Sections that
 * are also adapters ([placement], [neutron]) add `valid_interfaces = internal` in `extra`.
 */
export function serviceAuth(
  ctx: RenderContext,
  section: string,
  id: string,
  extra: DocEntry[] = [],
): DocSection {
  const keystone = keystoneEndpoint(ctx.topology, id);
  return {
    name: section,
    entries: [
      ["auth_url", origin(keystone.internal)],
      ["auth_type", "password"],
      ["project_domain_name", "Default"],
      ["user_domain_name", "Default"],
      ["project_name", "service"],
      ["username", id],
      ["password", ctx.secret(secretNames(id).identity)],
      ["region_name", ctx.topology.openstack.region],
      ...extra,
    ],
  };
}

/**
 * Every controller's broker in one URL (never the VIP: E6), as the service's own RabbitMQ user.
 * Quorum queues for everything, fanout on streams: a broker that dies loses no queue.
 */
export function messaging(ctx: RenderContext, id: string): DocSection[] {
  const { topology } = ctx;
  const password = ctx.secret(secretNames(id).amqp);
  const brokers = controllers(topology)
    .map((h) => `${id}:${password}@${h.name}:${AMQP_PORT}`)
    .join(",");
  const { vhost } = rabbitmqSettings(topology);
  const entries: DocEntry[] = [
    ["rabbit_quorum_queue", "true"],
    // Reply and fanout queues too: with classic ones a broker's death drops in-flight RPC replies.
    ["rabbit_transient_quorum_queue", "true"],
    ["rabbit_stream_fanout", "true"],
    // Stream consumers need a bounded prefetch (oslo.messaging refuses stream fanout without one).
    ["rabbit_qos_prefetch_count", "64"],
    // A dead broker is noticed in ~30 s instead of 60, then the client moves to the next one.
    ["heartbeat_timeout_threshold", "30"],
    ["heartbeat_rate", "3"],
    ["rabbit_retry_interval", "1"],
    ["rabbit_retry_backoff", "2"],
    ["rabbit_interval_max", "10"],
    ["kombu_failover_strategy", "round-robin"],
  ];
  return [
    // The URL path is the vhost, percent-encoded: "/openstack" is "/%2Fopenstack" (a bare
    // "/openstack" would name the vhost "openstack", which does not exist).
    { name: "DEFAULT", entries: [["transport_url", `rabbit://${brokers}/${encodeURIComponent(vhost)}`]] },
    { name: "oslo_messaging_rabbit", entries },
  ];
}

/** oslo.cache on every controller's memcached; enabled and given a backend (E31). */
export function cacheSection(topology: Topology): DocSection {
  return {
    name: "cache",
    entries: [
      ["enabled", "true"],
      // The pooled client: eventlet services and threaded WSGI workers share connections safely.
      ["backend", "oslo_cache.memcache_pool"],
      ["memcache_servers", memcachedServers(topology)],
      // A dead server is tried again after 5 minutes (the default). Every pooled connection pays
      // its socket timeout to learn it is dead again: with 30 s (as before), logins with a
      // memcached dropped took 1.3-2.3 s again every 30 s (measured by hand on the lab).
      ["memcache_dead_retry", "300"],
      ["memcache_socket_timeout", "1.0"],
      ["memcache_pool_connection_get_timeout", "2"],
    ],
  };
}

/** Sections merged by name: `own` entries replace shared ones with the same key, the rest append. */
export function mergeSections(shared: readonly DocSection[], own: readonly DocSection[]): DocSection[] {
  const out: DocSection[] = [];
  const byName = new Map<string, DocSection>();
  const add = (section: DocSection) => {
    const existing = byName.get(section.name);
    if (!existing) {
      const copy = { name: section.name, entries: [...section.entries] };
      byName.set(section.name, copy);
      out.push(copy);
      return;
    }
    for (const [key, value] of section.entries) {
      const index = existing.entries.findIndex(([k]) => k === key);
      if (index === -1) existing.entries.push([key, value]);
      else existing.entries[index] = [key, value];
    }
  };
  // [DEFAULT] first: oslo.config does not care, operators reading the file do.
  const all = [...shared, ...own];
  for (const s of all.filter((x) => x.name === "DEFAULT")) add(s);
  for (const s of all.filter((x) => x.name !== "DEFAULT")) add(s);
  return out;
}
