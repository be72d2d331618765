/**
 * @module
 * Keystone's own configuration: its keystone.conf sections (merged over the shared [database] on
 * the database VIP and [cache] on every controller's memcached), and the uwsgi ini hastack renders
 * instead of the package's, whose `plugins = python3,apparmor` with `apparmor-profile = keystone`
 * makes uwsgi exit at aa_change_profile wherever that profile is not loaded: in the lab's
 * containers (no AppArmor), and on hosts too, as Debian ships no profile of that name.
 */
import type { DocSection } from "../../formats/doc.ts";
import {
  ALLOW_EXPIRED_WINDOW_S,
  CREDENTIAL_DIR,
  FERNET_DIR,
  FERNET_MAX_ACTIVE_KEYS,
  TOKEN_EXPIRATION_S,
} from "./fernet.ts";

export const KEYSTONE_CONF = "/etc/keystone/keystone.conf";
/** Read after keystone.conf by keystone-manage only (steps.ts): lifts the daemon's SQL timeouts. */
export const MANAGE_CONF = "/etc/keystone/hastack-manage.conf";

/**
 * PyMySQL's socket timeouts on Keystone's SQL connections, in seconds. Without them a query on a
 * pooled connection whose far end lost power waits until TCP gives up (tcp_retries2 = 8: about
 * 105 s). A login looks up its user, domain and project through dogpile.cache, whose lock on a
 * missing key has no timeout: the other threads' logins wait behind the one thread in that read.
 * The 104.8-110.7 s stall of every login on both survivors when the VIP holder was powered off
 * (under-load drill run 15) had that shape: all ended in the same second, none reached the
 * password check, and `GET /v3` answered throughout. Reproduced on the lab by dropping Keystone's
 * SQL connections with nft (docs/tuning.md): three logins took 108.4 s and ended together; with
 * these timeouts, 5.7 s, all answered over new connections. A Keystone query takes milliseconds;
 * schema migrations take longer, so keystone-manage reads MANAGE_CONF, which takes them off.
 */
export const SQL_TIMEOUT_S = 5;
export const UWSGI_INI = "/etc/keystone/hastack-uwsgi.ini";

export function keystoneSections(): DocSection[] {
  return [
    {
      name: "DEFAULT",
      entries: [
        ["log_dir", "/var/log/keystone"],
        ["log_file", "keystone.log"],
      ],
    },
    {
      name: "token",
      entries: [
        ["provider", "fernet"],
        ["expiration", String(TOKEN_EXPIRATION_S)],
        ["allow_expired_window", String(ALLOW_EXPIRED_WINDOW_S)],
      ],
    },
    {
      name: "fernet_tokens",
      entries: [
        ["key_repository", `${FERNET_DIR}/`],
        // Sized for the rotation period (src/services/keystone/fernet.ts): keystone-manage would
        // prune to this too if an operator ran fernet_rotate by hand.
        ["max_active_keys", String(FERNET_MAX_ACTIVE_KEYS)],
      ],
    },
    { name: "fernet_receipts", entries: [["key_repository", `${FERNET_DIR}/`]] },
    {
      name: "credential",
      entries: [
        ["provider", "fernet"],
        ["key_repository", `${CREDENTIAL_DIR}/`],
      ],
    },
    // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
    { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
    {
      name: "database",
      entries: [["connection_parameters", `read_timeout=${SQL_TIMEOUT_S}&write_timeout=${SQL_TIMEOUT_S}`]],
    },
  ];
}

/** oslo.db appends nothing when the option is empty (engines.py: `if connection_parameters`). */
export function manageConf(): string {
  return [
    "# Rendered by hastack: read by keystone-manage after keystone.conf. Migrations may run longer",
    "# than the SQL timeouts the Keystone daemon has (see keystone.conf [database]).",
    "[database]",
    "connection_parameters =",
    "",
  ].join("\n");
}

/**
 * The package ini without the AppArmor plugin. Socket, processes and threads come from
 * /etc/default/keystone (wsgi.ts). No uid/gid: systemd starts it as keystone already.
 */
export function uwsgiIni(): string {
  return `${[
    "# Rendered by hastack: Debian's keystone-uwsgi.ini without its AppArmor plugin and profile.",
    "[uwsgi]",
    "plugins = python3",
    "master = true",
    "thunder-lock = true",
    "lazy-apps = true",
    "enable-threads = true",
    "buffer-size = 65535",
    // uwsgi's plain HTTP socket closes every connection after its response: saying so keeps a
    // client (or HAProxy) from reusing it and getting a reset.
    "add-header = Connection: close",
    "no-orphans = true",
    "die-on-term = true",
    "close-on-exec = true",
    "close-on-exec2 = true",
    "listen = 100",
    "name = keystone-api",
    "chdir = /var/lib/keystone",
    "wsgi-file = /usr/bin/keystone-wsgi-public",
    "logto = /var/log/keystone/keystone-uwsgi.log",
  ].join("\n")}\n`;
}
