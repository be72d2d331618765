/**
 * @module
 * admin-openrc.sh and demo-openrc.sh for the operator, beside the inventory (the lab's directory
 * for the lab): mode 0600 from creation, as they hold passwords. The public endpoint, because
 * they are for clients outside the management network; with TLS there, the site CA beside them
 * (site-ca.pem) as their OS_CACERT.
 */
import { constants } from "node:fs";
import { open, readFile, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { TLS_SECRETS } from "../../inventory/site-tls.ts";
import type { Topology } from "../../topology/types.ts";
import { KEYSTONE_ADMIN_SECRET } from "../openstack/identity-step.ts";
import type { StepContext } from "../types.ts";

export const KEYSTONE_DEMO_SECRET = "keystone_demo";

export interface OpenrcFile {
  path: string;
  content: string;
}

export function openrcText(
  topology: Topology,
  user: string,
  project: string,
  password: string,
  caPath?: string,
): string {
  const url = topology.endpoints.keystone?.public ?? "";
  return [
    `# Rendered by hastack for ${topology.cluster}: \`. ${user}-openrc.sh\`, then \`openstack token issue\`.`,
    `export OS_AUTH_URL=${url}`,
    "export OS_IDENTITY_API_VERSION=3",
    "export OS_USER_DOMAIN_NAME=Default",
    "export OS_PROJECT_DOMAIN_NAME=Default",
    `export OS_USERNAME=${user}`,
    `export OS_PROJECT_NAME=${project}`,
    // Generated passwords are letters and digits: safe unquoted, quoted anyway.
    `export OS_PASSWORD='${password}'`,
    `export OS_REGION_NAME=${topology.openstack.region}`,
    "export OS_INTERFACE=public",
    // The CA the public VIP's certificate is checked against (TLS on the public endpoints).
    ...(caPath ? [`export OS_CACERT=${caPath}`] : []),
    "",
  ].join("\n");
}

export function openrcFiles(ctx: Pick<StepContext, "topology" | "secret">): OpenrcFile[] {
  const dir = dirname(ctx.topology.source);
  const tls = ctx.topology.tls.public !== "off";
  const ca = join(dir, "site-ca.pem");
  const caPath = tls ? ca : undefined;
  return [
    {
      path: join(dir, "admin-openrc.sh"),
      content: openrcText(ctx.topology, "admin", "admin", ctx.secret(KEYSTONE_ADMIN_SECRET), caPath),
    },
    {
      path: join(dir, "demo-openrc.sh"),
      content: openrcText(ctx.topology, "demo", "demo", ctx.secret(KEYSTONE_DEMO_SECRET), caPath),
    },
    ...(tls ? [{ path: ca, content: `${ctx.secret(TLS_SECRETS.caCert)}\n` }] : []),
  ];
}

export async function openrcInSync(files: readonly OpenrcFile[]): Promise<boolean> {
  for (const f of files) {
    const text = await readFile(f.path, "utf8").catch(() => undefined);
    if (text !== f.content) return false;
    if (((await stat(f.path)).mode & 0o777) !== 0o600) return false;
  }
  return true;
}

/** Temp file created 0600 (O_EXCL), then renamed: never readable by others, never half written. */
export async function writeOpenrc(files: readonly OpenrcFile[]): Promise<string[]> {
  for (const f of files) {
    const temp = `${f.path}.tmp-${process.pid}`;
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(f.content);
    } finally {
      await handle.close();
    }
    await rename(temp, f.path);
  }
  return files.map((f) => f.path);
}
