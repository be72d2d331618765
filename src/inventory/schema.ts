import { z } from "zod";
import { AlertSettings } from "../instance-ha/notify/settings.ts";

/**
 * The inventory an operator writes. This is the user-facing shape (Vite's UserConfig); the
 * program works on the resolved Topology (src/topology). Every default lives here, so the JSON
 * Schema and docs/inventory.md show it.
 */

const hostName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    "must be a lowercase hostname: letters, digits and '-', starting with a letter",
  );
const secretName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, "must be a secret name: lowercase letters, digits and '_'");

export const NetworkName = z.enum(["management", "storage", "provider", "bmc"]);
export type NetworkName = z.infer<typeof NetworkName>;

export const Role = z.enum(["controller", "compute", "storage"]);
export type Role = z.infer<typeof Role>;

export const Network = z.strictObject({
  cidr: z.cidrv4().describe("IPv4 network in CIDR form, e.g. 10.20.0.0/24"),
  vlan: z.int().min(1).max(4094).optional().describe("802.1Q VLAN id, when the network is tagged"),
  gateway: z.ipv4().optional().describe("default gateway on this network (only one network should have one)"),
  mtu: z.int().min(1280).max(9216).optional(),
});
export type Network = z.infer<typeof Network>;

export const Ssh = z.strictObject({
  user: z.string().min(1).default("root"),
  port: z.int().min(1).max(65535).default(22),
  key: z.string().min(1).optional().describe("private key path, relative to the inventory file"),
  known_hosts: z.string().min(1).optional().describe("pinned host keys, relative to the inventory file"),
});
export type Ssh = z.infer<typeof Ssh>;

export const Bmc = z.strictObject({
  address: z.ipv4(),
  port: z.int().min(1).max(65535).default(623),
  user: z.string().min(1),
  password_secret: secretName.describe(
    "name of the secret holding the BMC password (never the password itself)",
  ),
  driver: z.enum(["ipmi"]).default("ipmi"),
  lanplus: z.boolean().default(true),
  cipher_suite: z
    .int()
    .min(0)
    .max(17)
    .default(3)
    .describe("IPMI 2.0 cipher suite for lanplus (3: AES-128, SHA1; 17: AES-128, SHA256 if the BMC has it)"),
});
export type Bmc = z.infer<typeof Bmc>;

export const Host = z.strictObject({
  roles: z.array(Role).min(1),
  addresses: z.partialRecord(NetworkName, z.ipv4()).describe("one address per network the host is on"),
  interfaces: z.partialRecord(NetworkName, z.string().min(1)).optional().describe("NIC name per network"),
  ssh: Ssh.partial().optional().describe("per-host SSH settings; missing fields come from the top-level ssh"),
  bmc: Bmc.optional(),
});
export type Host = z.infer<typeof Host>;

export const Vips = z.strictObject({
  internal: z.ipv4().describe("the VIP every internal client and API endpoint uses"),
  public: z.ipv4().optional().describe("VIP for public endpoints; defaults to the internal VIP"),
  public_hostname: z.string().optional().describe("name in public endpoint URLs instead of the public VIP"),
  services: z
    .partialRecord(z.string(), z.ipv4())
    .optional()
    .describe("optional dedicated VIP per service (the book's per-service VIP design)"),
});

/**
 * TLS on the public endpoints: HAProxy terminates it on the public VIP; internal endpoints stay
 * HTTP on the management network. site-ca: `hastack secrets init` makes a site CA and issues the
 * certificate (public VIP and public_hostname as its names). provided: the operator stores a
 * certificate (full chain), its key and the CA that signed it with `hastack secrets set`.
 */
export const Tls = z.strictObject({
  public: z
    .enum(["off", "site-ca", "provided"])
    .default("off")
    .describe(
      "TLS on the public VIP: off, a certificate from a site CA hastack makes, or the operator's own",
    ),
});
export type TlsMode = z.output<typeof Tls>["public"];

export const InstanceHa = z.strictObject({
  enabled: z.boolean().default(true),
  heartbeat_interval_s: z
    .number()
    .min(0.2)
    .default(1)
    .describe("how often each compute's agent sends a heartbeat over each network"),
  probe_interval_s: z
    .number()
    .min(0.2)
    .default(5)
    .describe(
      "how often each agent checks nova-compute, libvirt and the storage network (heartbeats between carry the last answer); a host's silence is seen whatever this is",
    ),
  missed_heartbeats: z
    .int()
    .min(2)
    .default(2)
    .describe(
      "heartbeats missed on a network before it counts as silent; a host fails after 3 silent evaluations (~5 s with the defaults)",
    ),
  confirm_channels: z
    .int()
    .min(1)
    .default(2)
    .describe("independent channels (management, storage, BMC) that must agree before acting"),
  max_failed_hosts: z
    .int()
    .min(1)
    .default(2)
    .describe("more hosts down at once = likely a partition: no action"),
  max_failed_percent: z
    .int()
    .min(1)
    .max(100)
    .default(50)
    .describe(
      "more than this share of the computes in trouble at once = an outage, not host failures: no action",
    ),
  evacuate_concurrency: z
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe(
      "evacuations in flight at once for one failed host; each target compute's Nova takes their claims one at a time, so more helps only across more targets",
    ),
  notify: AlertSettings.prefault({}).describe(
    "where the engine's alerts go: mail (smtp), a webhook, or both, rate limited per subject",
  ),
});

export const Override = z.strictObject({
  file: z.string().min(1).describe("absolute path of a rendered file, e.g. /etc/haproxy/haproxy.cfg"),
  hosts: z.array(hostName).optional().describe("limit to these hosts; default every host that has the file"),
  section: z.string().describe("section of that file ('' for files without sections)"),
  set: z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()])),
});
export type Override = z.infer<typeof Override>;

export const Waivers = z.strictObject({
  controller_count: z
    .string()
    .min(10)
    .optional()
    .describe("why a controller count other than an odd number >= 3 is fine"),
  fencing: z
    .string()
    .min(10)
    .optional()
    .describe("why services.pacemaker.fencing: false (stonith-enabled=false, split brain possible) is fine"),
});

/** The parts of the inventory that belong to no service: the site, its hosts and networks. */
const siteFields = {
  cluster: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "must be a short lowercase name"),
  release: z.literal("2025.1"),
  platform: z.literal("debian-13"),
  domain: z.string().default("cluster.local").describe("DNS domain for host FQDNs in /etc/hosts"),
  networks: z
    .strictObject({
      management: Network,
      storage: Network.optional(),
      provider: Network.optional(),
      bmc: Network.optional(),
    })
    .describe("management is required; the others are optional"),
  vips: Vips,
  vip_manager: z.enum(["pacemaker", "keepalived"]).default("pacemaker"),
  tls: Tls.prefault({}),
  ssh: Ssh.prefault({}),
  hosts: z.record(hostName, Host),
  instance_ha: InstanceHa.prefault({}),
  overrides: z.array(Override).default([]),
  waivers: Waivers.prefault({}),
  secrets_file: z.string().optional().describe("path of the secrets file; default <inventory>.secrets.yaml"),
};

/**
 * The inventory schema for a set of services: each `services.<key>` block is the settings schema
 * a service owns, and `services.openstack.enabled` takes the ids of the optional OpenStack
 * services (src/inventory/assemble.ts builds the arguments from the registry).
 */
export function inventorySchema(blocks: Readonly<Record<string, z.ZodObject>>, openstack: readonly string[]) {
  const [first, ...rest] = openstack;
  const id = first ? z.enum([first, ...rest]) : z.never();
  const OpenStackSettings = z.strictObject({
    enabled: z
      .array(id)
      .default([...openstack])
      .describe("the OpenStack services to deploy (each brings what it requires)"),
    region: z.string().default("RegionOne"),
    workers: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe(
        "processes per API and per RPC service on each controller (uwsgi, mod_wsgi, nova-conductor, nova-scheduler, glance-api); default: each service's own, 2 (1 for Nova's metadata API). Each is a Python interpreter with its own database and AMQP pools: on small controllers (the lab) 1",
      ),
  });
  const services = z.strictObject({
    ...Object.fromEntries(Object.entries(blocks).map(([key, schema]) => [key, schema.prefault({})])),
    openstack: OpenStackSettings.prefault({}),
  });
  // Keys in the order an operator writes them (and the docs list them): services after hosts.
  const { instance_ha, overrides, waivers, secrets_file, ...head } = siteFields;
  return z.strictObject({
    ...head,
    services: services.prefault({}),
    instance_ha,
    overrides,
    waivers,
    secrets_file,
  });
}

const SiteSchema = z.strictObject(siteFields);

/** `services:` as the program reads it: every block with its defaults applied. */
export type ServicesBlock = Readonly<Record<string, unknown>> & {
  openstack: { enabled: string[]; region: string; workers?: number };
};

export type Inventory = z.output<typeof SiteSchema> & { services: ServicesBlock };
export type InventoryInput = z.input<typeof SiteSchema> & { services?: Record<string, unknown> };
