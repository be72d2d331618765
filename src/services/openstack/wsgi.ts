/**
 * @module
 * How an OpenStack API is served on a controller: Debian's uwsgi units, told by their
 * /etc/default file to bind the management address, or an Apache mod_wsgi site of our own.
 * Either way the API listens on the host's own address and HAProxy holds the port on the VIP.
 */
import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { FileSpec } from "../types.ts";
import type { ApacheVhost, OpenStackServiceSpec, UwsgiApp } from "./spec.ts";

function endpointPort(topology: Topology, service: string, endpoint: string): number {
  const port = topology.endpoints[endpoint]?.port;
  if (port === undefined)
    throw new HastackError(
      "E_OPENSTACK_SPEC",
      `Cannot render the WSGI server of ${service}: no endpoint ${endpoint}`,
      {
        hint: `${endpoint} must be one of ${service}'s endpoints`,
      },
    );
  return port;
}

/** The site's `services.openstack.workers` when it sets them, else the service's own number. */
export function workers(topology: Topology, own: number): number {
  return topology.openstack.workers ?? own;
}

/**
 * /etc/default/<name>, sourced by the init script after it built `--http-socket :PORT`: these
 * arguments replace that (--processes and --threads after --ini win over the ini's 8 x 32).
 */
export function uwsgiDefaults(
  topology: Topology,
  host: ResolvedHost,
  service: string,
  app: UwsgiApp,
): ConfigDoc {
  const port = endpointPort(topology, service, app.endpoint);
  const args = [
    `--http-socket ${host.ip}:${port}`,
    `--ini ${app.ini}`,
    `--processes ${workers(topology, app.processes)}`,
    `--threads ${app.threads}`,
    ...Object.entries(app.env ?? {}).map(([k, v]) => `--env ${k}=${v}`),
  ];
  return {
    format: "shell-env",
    header: [
      `Rendered by hastack: ${app.unit} binds ${host.ip}:${port} only (HAProxy holds the VIP's port).`,
    ],
    sections: [{ name: "", entries: [["DAEMON_ARGS", args.join(" ")]] }],
  };
}

export function apacheVhost(
  topology: Topology,
  host: ResolvedHost,
  service: string,
  site: ApacheVhost,
): string {
  const port = endpointPort(topology, service, site.endpoint);
  const group = `${service}-${site.name}`;
  const lines = [
    `# Rendered by hastack for ${host.name}: listens on the management address only.`,
    `Listen ${host.ip}:${port}`,
    `<VirtualHost ${host.ip}:${port}>`,
    `    ServerName ${topology.vips.publicHost}`,
    `    WSGIDaemonProcess ${group} user=${site.user} group=${site.group} processes=${workers(topology, site.processes)} threads=${site.threads} display-name=%{GROUP}`,
    `    WSGIProcessGroup ${group}`,
    `    WSGIApplicationGroup %{GLOBAL}`,
    `    WSGIScriptAlias ${site.urlPath} ${site.script}`,
    `    <Directory ${site.script.replace(/\/[^/]+$/, "")}>`,
    "        Require all granted",
    "    </Directory>",
  ];
  if (site.static)
    lines.push(
      `    Alias ${site.static.urlPath} ${site.static.dir}`,
      `    <Directory ${site.static.dir}>`,
      "        Require all granted",
      "    </Directory>",
    );
  lines.push(`    ErrorLog /var/log/apache2/${site.name}-error.log`, "</VirtualHost>", "");
  return lines.join("\n");
}

/**
 * Debian's ports.conf says `Listen 80`, every address: HAProxy could then not bind the VIP's
 * port 80. Each site carries its own Listen line instead.
 */
const PORTS_CONF = "# Rendered by hastack: each site in sites-enabled carries its own Listen line.\n";

export function wsgiFiles(topology: Topology, host: ResolvedHost, spec: OpenStackServiceSpec): FileSpec[] {
  const files: FileSpec[] = [];
  const sites = (spec.wsgi ?? []).filter((w): w is ApacheVhost => w.kind === "apache");
  for (const server of spec.wsgi ?? []) {
    if (server.kind === "uwsgi")
      files.push({
        path: `/etc/default/${server.defaults}`,
        owner: "root",
        group: "root",
        mode: 0o644,
        content: uwsgiDefaults(topology, host, spec.id, server),
        onChange: { restart: [server.unit] },
      });
    else
      files.push({
        path: `/etc/apache2/sites-enabled/${server.name}.conf`,
        owner: "root",
        group: "root",
        mode: 0o644,
        content: apacheVhost(topology, host, spec.id, server),
        onChange: { restart: ["apache2"] },
      });
  }
  // One Apache per host: today only Horizon runs in it, so Horizon's data brings ports.conf.
  if (sites.length > 0)
    files.push({
      path: "/etc/apache2/ports.conf",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: PORTS_CONF,
      onChange: { restart: ["apache2"] },
    });
  return files;
}
