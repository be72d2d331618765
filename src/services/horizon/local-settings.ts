/**
 * @module
 * Horizon's settings as a drop-in (local_settings.d/_9000_hastack.py), read after Debian's own
 * snippets (_0001.._0006), never a sed-patched local_settings.py (E32). Debian's WEBROOT "/" and
 * its offline-compressed static files stay as built: moving the web root would need the package's
 * compress step run again on every controller. What hastack sets is what makes three controllers
 * one dashboard: sessions in every controller's memcached (with Debian's per-process LocMemCache a
 * user is logged out whenever HAProxy moves them: status proves this, see health.ts), one
 * SECRET_KEY everywhere (Debian generates one per host; Django signs its message cookies and
 * tokens with it, and one controller would drop what another signed), Keystone through the VIP,
 * and HAProxy's forwarded headers.
 */
import type { ResolvedHost } from "../../topology/types.ts";
import { controllers } from "../hosts.ts";
import { MEMCACHED_PORT } from "../memcached/settings.ts";
import type { RenderContext } from "../types.ts";

export const LOCAL_SETTINGS = "/etc/openstack-dashboard/local_settings.d/_9000_hastack.py";

/** A Python string literal: JSON's quoting is valid Python for these values. */
function py(value: string): string {
  return JSON.stringify(value);
}

function pyList(values: readonly string[]): string {
  return `[${values.map(py).join(", ")}]`;
}

export function localSettings(ctx: RenderContext, host: ResolvedHost): string {
  const { topology } = ctx;
  const keystone = topology.endpoints.keystone;
  // The names a browser, HAProxy's check and the start step's probe send as Host.
  const allowed = [
    ...new Set([topology.vips.publicHost, topology.vips.public, topology.vips.internal, host.ip, host.name]),
  ];
  const memcached = controllers(topology).map((h) => `${h.ip}:${MEMCACHED_PORT}`);
  return [
    `# Rendered by hastack for ${host.name}: read after Debian's local_settings.d snippets.`,
    `ALLOWED_HOSTS = ${pyList(allowed)}`,
    "# One key on every controller: what one signs (message cookies, tokens) the others accept.",
    `SECRET_KEY = ${py(ctx.secret("horizon_secret_key"))}`,
    "# Server-side calls go to Keystone and every API through the VIP's internal endpoints.",
    `OPENSTACK_KEYSTONE_URL = ${py(keystone?.internal ?? "")}`,
    'OPENSTACK_ENDPOINT_TYPE = "internalURL"',
    `OPENSTACK_KEYSTONE_DEFAULT_DOMAIN = ${py("Default")}`,
    'OPENSTACK_KEYSTONE_DEFAULT_ROLE = "member"',
    `OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT = False`,
    "# Sessions in memcached on every controller, so any controller serves any logged-in user.",
    'SESSION_ENGINE = "django.contrib.sessions.backends.cache"',
    "CACHES = {",
    '    "default": {',
    '        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",',
    `        "LOCATION": ${pyList(memcached)},`,
    "        # A controller that is down: its memcached is a cache miss (that user logs in again),",
    "        # never an HTTP 500, and pymemcache takes it out of the ring for 30 s so new sessions",
    "        # land on the others (measured on the lab: 500 at login and on the instance list with",
    "        # ctl3 off, 2026-12-03).",
    '        "OPTIONS": {',
    '            "ignore_exc": True,',
    '            "connect_timeout": 1,',
    '            "timeout": 2,',
    '            "retry_attempts": 1,',
    '            "retry_timeout": 1,',
    '            "dead_timeout": 30,',
    "        },",
    "    },",
    "}",
    "# Behind HAProxy: the Host and scheme the browser used come in X-Forwarded-* headers.",
    "USE_X_FORWARDED_HOST = True",
    'SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")',
    'TIME_ZONE = "UTC"',
    "",
  ].join("\n");
}
