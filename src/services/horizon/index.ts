import { openstackService } from "../openstack/service.ts";
import type { OpenStackServiceSpec } from "../openstack/spec.ts";
import type { ServiceDef } from "../types.ts";
import { horizonProbes, LOGIN_PATH } from "./health.ts";
import { LOCAL_SETTINGS, localSettings } from "./local-settings.ts";

/**
 * Horizon under Apache mod_wsgi on every controller's management address, behind the VIP:
 * Debian's web root "/" and its precompressed static files, hastack's settings as a drop-in
 * (local-settings.ts), sessions in memcached. The WSGI daemon runs as www-data, the account
 * Debian's package gives the secret-key and static directories to.
 */
const spec: OpenStackServiceSpec = {
  id: "horizon",
  title: "Horizon dashboard",
  state: "implemented",
  requires: ["keystone"],
  after: ["keystone"],
  // With TLS on the public VIP, browsers get https on 443 there (HAProxy terminates it).
  endpoints: [{ id: "horizon", port: 80, path: "", tlsPort: 443 }],
  // Session state lives in memcached, but a sticky cookie spares re-logins while a backend flaps.
  listeners: [
    {
      endpoint: "horizon",
      name: "horizon",
      check: { kind: "http", path: LOGIN_PATH },
      // Django renders the login page for each check: at the site's 1 s, every HAProxy asking
      // every controller kept the six Apache processes of an idle lab at 2-3% of a core each.
      // A dashboard can take a few seconds more to leave a dead controller than the APIs.
      checkInter_ms: 5_000,
      sticky: true,
    },
  ],
  components: [
    {
      name: "horizon",
      role: "controller",
      // Not openstack-dashboard-apache: its vhost listens on every address; hastack renders its own (E32).
      packages: ["openstack-dashboard", "apache2", "libapache2-mod-wsgi-py3"],
      units: ["apache2.service"],
    },
  ],
  secrets: [
    {
      name: "horizon_secret_key",
      kind: "hex-32",
      description: "Django SECRET_KEY of Horizon (same on every controller)",
    },
  ],
  wsgi: [
    {
      kind: "apache",
      name: "horizon",
      endpoint: "horizon",
      script: "/usr/share/openstack-dashboard/wsgi.py",
      urlPath: "/",
      static: { urlPath: "/static", dir: "/var/lib/openstack-dashboard/static" },
      user: "www-data",
      group: "www-data",
      processes: 2,
      threads: 8,
    },
  ],
  files: (ctx, host) =>
    host.controllerIndex > 0
      ? [
          {
            path: LOCAL_SETTINGS,
            owner: "root",
            group: "www-data",
            mode: 0o640,
            content: localSettings(ctx, host),
            onChange: { restart: ["apache2"] },
          },
        ]
      : [],
  start: { units: ["apache2.service"], answers: { endpoint: "horizon", path: LOGIN_PATH, status: 200 } },
  health: horizonProbes,
};

export const horizon: ServiceDef = openstackService(spec);
