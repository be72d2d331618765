/**
 * @module
 * The agent's config file (/etc/hastack/agent.json) and its key file (/etc/hastack/agent.key).
 *
 * The key is a file of its own, not a field of the config, for two reasons. The config is
 * rendered from the topology like any other file (its text can be shown in a plan or a diff),
 * while the key is derived from the site's secret (`hostKey`) on the deploying machine: the
 * render pipeline's placeholders stand for whole secrets, and putting the site secret's
 * placeholder on a compute is exactly what must never happen. And the config may be readable
 * for diagnostics (0644) while the key is root's alone (0600).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { HEARTBEAT_NETWORKS, type HeartbeatNetwork } from "../heartbeat.ts";

export const AGENT_CONFIG_PATH = "/etc/hastack/agent.json";
export const AGENT_KEY_PATH = "/etc/hastack/agent.key";
/** Where the last epoch used is kept, so that a clock that went back cannot reuse an old one. */
export const AGENT_EPOCH_PATH = "/var/lib/hastack/agent-epoch";
export const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";

const Address = z.string().refine((a) => isIP(a) !== 0, { message: "not an IP address" });

const Target = z.strictObject({ address: Address, port: z.int().min(1).max(65_535) });
export type Target = z.infer<typeof Target>;

/** One network's copy of the heartbeat: the address it leaves from, and where it goes. */
const Route = z.strictObject({
  /**
   * The compute's own address on this network. The socket binds to it, so the kernel picks the
   * route (and the interface) of this network: without it, both copies could leave over the
   * default route, and a dead storage link would go unnoticed.
   */
  source: Address,
  /** The engine's addresses on this network (every controller that may run it). */
  targets: z.array(Target).min(1),
});
export type Route = z.infer<typeof Route>;

export const AgentConfig = z.strictObject({
  site: z.string().min(1).max(64),
  host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/),
  key_file: z.string().min(1).default(AGENT_KEY_PATH),
  /** Raised past on every start (heartbeat.ts: an epoch never goes back, even with the clock). */
  epoch_file: z.string().min(1).default(AGENT_EPOCH_PATH),
  boot_id_file: z.string().min(1).default(BOOT_ID_PATH),
  interval_ms: z.int().min(100).max(60_000).default(1000),
  /**
   * How often the probes run; heartbeats between two observations carry the last one. A
   * host's death is its silence, which this does not slow; a dead nova-compute or libvirt is
   * seen up to this much later. Each observation costs ~70 ms of CPU (a virsh and a systemctl
   * process): every second, that was 8.5% of a core per compute on the lab.
   */
  probe_interval_ms: z.int().min(100).max(300_000).default(5000),
  networks: z.strictObject({ management: Route, storage: Route }),
  /** What is probed on every observation, each bounded by its own timeout. */
  probes: z
    .strictObject({
      /** Units whose `systemctl is-active` all say active for nova-compute to count as alive. */
      nova_compute_units: z.array(z.string().min(1)).min(1).default(["nova-compute.service"]),
      /**
       * hastack runs the monolithic libvirtd, socket-activated with `--timeout 120` (Debian's
       * default, see src/services/nova/compute-steps.ts): the daemon may exit when idle, so the
       * socket is what must be active. The virsh call below then proves the daemon answers.
       */
      libvirt_units: z.array(z.string().min(1)).min(1).default(["libvirtd.socket"]),
      libvirt_uri: z.string().min(1).default("qemu:///system"),
      /** The Ceph monitors' addresses (msgr2, 3300): reachable when any one accepts a connection. */
      storage: z.array(Target).default([]),
      command_timeout_ms: z.int().min(50).max(30_000).default(3000),
      connect_timeout_ms: z.int().min(50).max(30_000).default(500),
    })
    .prefault({}),
});
export type AgentConfig = z.output<typeof AgentConfig>;
export type AgentConfigInput = z.input<typeof AgentConfig>;

/** The config as the agent runs with it: the key read and checked. */
export interface AgentSettings extends AgentConfig {
  key: Buffer;
}

/** 32 bytes as 64 hex digits, as `renderAgentKey` writes it (a trailing newline is fine). */
const KeyText = z
  .string()
  .transform((text) => text.trim())
  .pipe(z.string().regex(/^[0-9a-f]{64}$/i, { message: "expected 64 hex digits (32 bytes)" }));

function configError(file: string, detail: string, hint?: string): HastackError {
  return new HastackError("E_HA_AGENT_CONFIG", `Cannot start the instance-HA agent: ${file}: ${detail}`, {
    hint: hint ?? "the deploying machine renders this file: redeploy instance-ha to this compute",
  });
}

function zodDetail(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(top)"}: ${i.message}`)
    .join("; ");
}

/** Parses the config's text; every problem named with its path in the file. */
export function parseAgentConfig(text: string, file = AGENT_CONFIG_PATH): AgentConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw configError(file, `not JSON (${(error as Error).message})`);
  }
  const parsed = AgentConfig.safeParse(json);
  if (!parsed.success) throw configError(file, zodDetail(parsed.error));
  return parsed.data;
}

/** The key file's text as the 32-byte key; the error never quotes the file's content. */
export function parseAgentKey(text: string, file = AGENT_KEY_PATH): Buffer {
  const parsed = KeyText.safeParse(text);
  if (!parsed.success) throw configError(file, `the per-host key is invalid: ${zodDetail(parsed.error)}`);
  return Buffer.from(parsed.data, "hex");
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw configError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** Reads and checks the config and the key it names. */
export function loadAgentConfig(file = AGENT_CONFIG_PATH): AgentSettings {
  const config = parseAgentConfig(readText(file), file);
  return { ...config, key: parseAgentKey(readText(config.key_file), config.key_file) };
}

/** The key file's text: the per-host key (`hostKey`) as hex. */
export function renderAgentKey(key: Buffer): string {
  if (key.length !== 32) throw new Error(`a per-host key is 32 bytes, not ${key.length}`);
  return `${key.toString("hex")}\n`;
}

/** What the config is made of, as the service knows it from the topology. */
export interface AgentConfigParts {
  site: string;
  host: string;
  intervalMs: number;
  probeIntervalMs: number;
  /** Per network: the compute's address there, and the engine's. */
  networks: Record<HeartbeatNetwork, { source: string; targets: Target[] }>;
  storageProbes: Target[];
}

/**
 * The config file's text. Checked against the schema before it is returned, so a topology that
 * cannot make a valid config fails at render time on the deploying machine, not on the compute.
 */
export function renderAgentConfig(parts: AgentConfigParts): string {
  const input: AgentConfigInput = {
    site: parts.site,
    host: parts.host,
    interval_ms: parts.intervalMs,
    probe_interval_ms: parts.probeIntervalMs,
    networks: Object.fromEntries(
      HEARTBEAT_NETWORKS.map((n) => [
        n,
        { source: parts.networks[n].source, targets: parts.networks[n].targets },
      ]),
    ) as AgentConfigInput["networks"],
    probes: { storage: parts.storageProbes },
  };
  const parsed = AgentConfig.safeParse(input);
  if (!parsed.success) {
    throw configError(
      `${AGENT_CONFIG_PATH} for ${parts.host}`,
      zodDetail(parsed.error),
      "a bug in hastack's renderer",
    );
  }
  return `${JSON.stringify(input, null, 2)}\n`;
}
