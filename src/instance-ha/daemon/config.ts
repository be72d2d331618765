/**
 * @module
 * The engine daemon's two files on every controller: /etc/hastack/engine.json (what it watches
 * and where it reaches Nova, the database, the BMCs and Ceph; 0644, shown in plans and diffs) and
 * /etc/hastack/engine-secrets.json (the site's signing secret, its Keystone and MariaDB
 * passwords, the BMC passwords; root's alone, 0600). Both rendered by the deploy
 * (services/instance-ha/engine-files.ts), both checked here by zod before anything starts.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { EngineSettings } from "../engine-deps.ts";
import { EvacuateSettings } from "../evacuate.ts";
import { HEARTBEAT_NETWORKS } from "../heartbeat.ts";
import { AlertSettings } from "../notify/settings.ts";

export const ENGINE_CONFIG_PATH = "/etc/hastack/engine.json";
export const ENGINE_SECRETS_PATH = "/etc/hastack/engine-secrets.json";

const Address = z.string().refine((a) => isIP(a) !== 0, { message: "not an IP address" });
const Port = z.int().min(1).max(65_535);

const Bmc = z.strictObject({
  address: z.string().min(1),
  port: Port,
  user: z.string(),
  lanplus: z.boolean(),
  cipherSuite: z.int(),
});

const Compute = z.strictObject({
  name: z.string().min(1),
  /** Without one, only a storage fence is possible. */
  bmc: Bmc.optional(),
  /**
   * Its address per network: heartbeats from elsewhere are dropped (the verifier), and the
   * storage one is what a storage fence blocklists. On a site without a storage network both
   * copies come from the management address.
   */
  addresses: z.strictObject({ management: Address, storage: Address }),
});

export const EngineConfig = z.strictObject({
  site: z.string().min(1),
  /** This controller's name: the history says which engine decided. */
  node: z.string().min(1),
  listen: z
    .array(z.strictObject({ network: z.enum(HEARTBEAT_NETWORKS), address: Address, port: Port }))
    .min(1),
  /**
   * The native receiver's binary (instance-ha/native/): it takes the per-packet work out of Node.
   * Absent, or failing to start, Node receives the packets itself (the same checks, more CPU).
   */
  receiver_program: z.string().min(1).optional(),
  computes: z.array(Compute),
  keystone: z.strictObject({
    /** The internal endpoint: the engine never leaves the management network. */
    auth_url: z.url(),
    username: z.string().min(1),
    project: z.string().min(1),
    /** The site CA, when the URL is https. */
    ca_file: z.string().min(1).optional(),
  }),
  store: z.strictObject({
    host: z.string().min(1),
    port: Port,
    /** A local MariaDB's socket instead of host:port (the daemon's own test). */
    socket_path: z.string().min(1).optional(),
    user: z.string().min(1),
    database: z.string(),
  }),
  /** The cephx identity allowed `osd blocklist` (storage fence); absent: no storage fence. */
  ceph: z.strictObject({ name: z.string().min(1), keyring: z.string().min(1) }).optional(),
  /** Every instance disk is on Ceph (Nova's images in RBD): a storage fence covers every VM. */
  disks_on_ceph: z.boolean(),
  engine: EngineSettings.partial().default({}),
  evacuate: EvacuateSettings.partial().default({}),
  api: z.strictObject({ address: Address, port: Port }),
  /** The inventory's instance_ha.notify; its SMTP password is in the secrets file. */
  notify: AlertSettings.prefault({}),
});
export type EngineConfig = z.output<typeof EngineConfig>;
export type EngineConfigInput = z.input<typeof EngineConfig>;

export const EngineSecrets = z.strictObject({
  site_secret: z.string().min(32),
  keystone_password: z.string().min(1),
  store_password: z.string().min(1),
  /** Per compute name. */
  bmc_passwords: z.record(z.string(), z.string()).default({}),
  /** The value of notify.smtp.password_secret, when the relay wants AUTH. */
  smtp_password: z.string().optional(),
});
export type EngineSecrets = z.output<typeof EngineSecrets>;

function readJson<S extends z.ZodType>(path: string, schema: S, secret: boolean): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new HastackError("E_HA_ENGINE_CONFIG", `Cannot read ${path}: ${(cause as Error).message}`, {
      cause,
      hint: "deploy instance-ha (hastack deploy) renders it on every controller",
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    // JSON.parse quotes the text it failed on: never for the secrets file.
    const words = secret ? "not valid JSON" : (cause as Error).message;
    throw new HastackError("E_HA_ENGINE_CONFIG", `Cannot read ${path}: ${words}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new HastackError("E_HA_ENGINE_CONFIG", `Cannot use ${path}: ${where.slice(0, 3).join("; ")}`);
  }
  return parsed.data;
}

export function loadEngineConfig(path = ENGINE_CONFIG_PATH): EngineConfig {
  return readJson(path, EngineConfig, false);
}

export function loadEngineSecrets(path = ENGINE_SECRETS_PATH): EngineSecrets {
  return readJson(path, EngineSecrets, true);
}
