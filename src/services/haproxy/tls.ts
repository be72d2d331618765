/**
 * @module
 * The public certificate on every controller, for HAProxy's TLS listeners on the public VIP,
 * and the CA that signed it, for clients on the controllers (`hastack smoke`'s openstack client,
 * status). Both come from the secrets file (src/inventory/site-tls.ts).
 */
import { TLS_SECRETS } from "../../inventory/site-tls.ts";
import type { FileSpec, RenderContext } from "../types.ts";
import { PUBLIC_PEM } from "./config.ts";

/** Where the site CA's certificate is on every controller: the OS_CACERT of clients there. */
export const SITE_CA_PATH = "/etc/hastack/tls/site-ca.pem";

export function tlsFiles(ctx: RenderContext): FileSpec[] {
  if (ctx.topology.tls.public === "off") return [];
  return [
    {
      path: PUBLIC_PEM,
      owner: "root",
      group: "root",
      // The key is in it; HAProxy reads it as root before it drops privileges.
      mode: 0o600,
      content: `${ctx.secret(TLS_SECRETS.cert)}\n${ctx.secret(TLS_SECRETS.key)}\n`,
      onChange: { reload: ["haproxy"] },
    },
    {
      path: SITE_CA_PATH,
      owner: "root",
      group: "root",
      mode: 0o644,
      content: `${ctx.secret(TLS_SECRETS.caCert)}\n`,
    },
  ];
}
