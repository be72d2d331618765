import type { ConfigDoc, DocEntry, DocSection } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import type { Frontend, HealthCheck } from "../types.ts";
import { haproxySettings } from "./settings.ts";

export const STATS_USER = "hastack";
/** The public certificate and its key in one file, as HAProxy's `crt` takes them (0600, root). */
export const PUBLIC_PEM = "/etc/haproxy/certs/public.pem";

/**
 * haproxy.cfg for one controller, from the frontends every service declares. Only the stats
 * listener differs between controllers (it binds the node's own address: the runbook's
 * `0.0.0.0:1080` with `admin:admin`, E26, is what this replaces).
 */
export function haproxyConfig(
  topology: Topology,
  host: ResolvedHost,
  frontends: readonly Frontend[],
  statsPassword: string,
): ConfigDoc {
  const s = haproxySettings(topology);
  const global: DocSection = {
    name: "global",
    entries: [
      ["log", "/dev/log local0"],
      ["chroot", "/var/lib/haproxy"],
      ["user", "haproxy"],
      ["group", "haproxy"],
      ["maxconn", String(s.maxconn)],
      // Mode 660 level admin: `hastack status` and drain/ready commands talk to this socket.
      ["stats socket", "/run/haproxy/admin.sock mode 660 level admin"],
      ["stats timeout", "30s"],
      // TLS 1.2 at least; HAProxy's default ciphers otherwise (Debian's OpenSSL policy).
      ...(frontends.some((f) => f.publicBind?.tls)
        ? ([["ssl-default-bind-options", "ssl-min-ver TLSv1.2 no-tls-tickets"]] as DocEntry[])
        : []),
    ],
  };
  const defaults: DocSection = {
    name: "defaults",
    entries: [
      ["log", "global"],
      ["mode", "http"],
      ["option", "dontlognull"],
      // On every retry, not only the last: a request HAProxy sent to a controller that just died
      // (before its checks mark it down) goes to another after one connect timeout, not four
      // (Keystone logins timed out for 15 s in the first controller-poweroff-under-load run).
      ["option", "redispatch 1"],
      ["retries", "3"],
      ["timeout connect", `${s.timeouts.connect_ms}ms`],
      ["timeout client", `${s.timeouts.client_s}s`],
      ["timeout server", `${s.timeouts.server_s}s`],
      ["timeout check", `${s.timeouts.check_ms}ms`],
      ["timeout http-request", "10s"],
      ["timeout queue", "1m"],
      ["maxconn", String(s.maxconn)],
    ],
  };
  const stats: DocSection = {
    name: "listen stats",
    entries: [
      ["bind", `${host.ip}:${s.stats_port}`],
      ["mode", "http"],
      ["stats enable", ""],
      ["stats uri", "/"],
      ["stats refresh", "10s"],
      ["stats hide-version", ""],
      ["stats auth", `${STATS_USER}:${statsPassword}`],
    ],
  };
  return {
    format: "haproxy",
    header: ["Rendered by hastack from the inventory; edit the inventory, not this file."],
    sections: [global, defaults, stats, ...frontends.map((f) => listenSection(topology, f))],
  };
}

function listenSection(topology: Topology, f: Frontend): DocSection {
  const entries: DocEntry[] = [["bind", `${f.address}:${f.port}`]];
  const pub = f.publicBind;
  if (pub) entries.push(["bind", `${pub.address}:${pub.port}${pub.tls ? ` ssl crt ${PUBLIC_PEM}` : ""}`]);
  if (pub?.redirectFrom) entries.push(["bind", `${pub.address}:${pub.redirectFrom}`]);
  entries.push(
    ["mode", f.mode],
    // Stateful UIs stick to one backend by client address (works for websockets too).
    ["balance", f.sticky && f.mode === "tcp" ? "source" : f.balance],
    ["option", f.mode === "http" ? "httplog" : "tcplog"],
  );
  if (f.mode === "http") entries.push(["option", "forwardfor"]);
  // The APIs build their links (version documents, next pages) from X-Forwarded-Proto
  // (oslo_middleware's proxy headers): https only for what came in over TLS, never the client's word.
  if (f.mode === "http")
    entries.push(
      ["http-request", "set-header X-Forwarded-Proto https if { ssl_fc }"],
      ["http-request", "set-header X-Forwarded-Proto http if !{ ssl_fc }"],
    );
  // Plain HTTP on the public VIP is only ever a redirect; the internal VIP's HTTP is served.
  if (pub?.redirectFrom)
    entries.push(["http-request", `redirect scheme https code 301 if { dst ${pub.address} } !{ ssl_fc }`]);
  for (const option of f.options ?? []) entries.push(["option", option]);
  entries.push(...checkEntries(f.check));
  if (f.timeouts?.client_s) entries.push(["timeout client", `${f.timeouts.client_s}s`]);
  if (f.timeouts?.server_s) entries.push(["timeout server", `${f.timeouts.server_s}s`]);
  if (f.mode === "http" && f.sticky) entries.push(["cookie", "SERVERID insert indirect nocache"]);
  const c = haproxySettings(topology).check;
  for (const b of f.backends) {
    const words = [
      b.host,
      `${b.address}:${b.port}`,
      "check",
      `inter ${f.checkInter_ms ?? c.inter_ms}ms`,
      `fastinter ${c.fastinter_ms}ms`,
      `downinter ${c.downinter_ms}ms`,
      `rise ${c.rise}`,
      `fall ${c.fall}`,
    ];
    if (f.check.kind === "http-port") words.push(`port ${f.check.port}`);
    if (f.mode === "http" && f.sticky) words.push(`cookie ${b.host}`);
    if (b.backup) words.push("backup");
    words.push(...(f.serverOptions ?? []));
    entries.push(["server", words.join(" ")]);
  }
  return { name: `listen ${f.name}`, entries };
}

function checkEntries(check: HealthCheck): DocEntry[] {
  switch (check.kind) {
    case "tcp":
      return [];
    case "http":
      return [
        ["option", "httpchk"],
        ["http-check send", `meth ${check.method ?? "GET"} uri ${check.path}`],
        // No expect: HAProxy counts 2xx and 3xx as up (Cinder answers / with 300 Multiple Choices).
        ...(check.expect ? ([["http-check expect", check.expect]] as DocEntry[]) : []),
      ];
    case "http-port":
      // The checker answers plain HTTP on its own port while the backend itself speaks TCP.
      return [
        ["option", "httpchk"],
        ["http-check send", `meth GET uri ${check.path}`],
        ["http-check expect", "status 200"],
      ];
  }
}
