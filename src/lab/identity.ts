import { randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { HastackError } from "../util/errors.ts";
import { runChecked } from "./exec.ts";
import { bmcSecretName } from "./inventory.ts";
import { labDir, labSecretsPath } from "./paths.ts";
import type { LabHost, LabPlan } from "./plan.ts";

/** The SSH key hastack logs in to every lab host with (root). */
export function labKeyPath(): string {
  return path.join(labDir(), "id_ed25519");
}

export function labKnownHostsPath(): string {
  return path.join(labDir(), "known_hosts");
}

/** Per-host SSH host keys live outside the host overlays, so `lab down` + `lab up` keeps known_hosts valid. */
export function hostKeyDir(host: string): string {
  return path.join(labDir(), "hostkeys", host);
}

export async function ensureKeys(plan: LabPlan): Promise<void> {
  await fs.mkdir(labDir(), { recursive: true, mode: 0o700 });
  await ensureKeyPair(labKeyPath(), "hastack-lab");
  const lines: string[] = [];
  for (const host of plan.hosts) {
    const dir = hostKeyDir(host.name);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const key = path.join(dir, "ssh_host_ed25519_key");
    await ensureKeyPair(key, `root@${host.name}`);
    const pub = (await fs.readFile(`${key}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
    lines.push(`${knownHostNames(host).join(",")} ${pub}`);
  }
  await writeFileAtomic(labKnownHostsPath(), `${lines.join("\n")}\n`, 0o644);
}

function knownHostNames(host: LabHost): string[] {
  return [host.name, `${host.name}.cluster.local`, ...Object.values(host.addresses)];
}

async function ensureKeyPair(file: string, comment: string): Promise<void> {
  try {
    await fs.access(file);
    await fs.access(`${file}.pub`);
  } catch {
    await fs.rm(file, { force: true });
    await fs.rm(`${file}.pub`, { force: true });
    await runChecked("generate an SSH key", "ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      comment,
      "-f",
      file,
    ]);
  }
}

const PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** IPMI 2.0 passwords are at most 20 bytes; 16 letters and digits is about 93 bits. */
export function newBmcPassword(): string {
  let out = "";
  for (let i = 0; i < 16; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}

export type Secrets = Record<string, string>;

export async function readSecrets(): Promise<Secrets> {
  let text: string;
  try {
    text = await fs.readFile(labSecretsPath(), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new HastackError("E_LAB_SECRETS", `Cannot read ${labSecretsPath()}`, { cause: error });
  }
  const parsed: unknown = YAML.parse(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new HastackError(
      "E_LAB_SECRETS",
      `Cannot read ${labSecretsPath()}: it is not a map of secret names to values`,
    );
  }
  const secrets: Secrets = {};
  for (const [k, v] of Object.entries(parsed)) secrets[k] = String(v);
  return secrets;
}

/**
 * Adds a BMC password for every host that has none. Existing keys (also those another command
 * wrote) are kept as they are, so re-running `lab up` never changes a password.
 */
export async function ensureBmcSecrets(plan: LabPlan): Promise<Secrets> {
  const secrets = await readSecrets();
  let changed = false;
  for (const host of plan.hosts) {
    const name = bmcSecretName(host.name);
    if (secrets[name] === undefined) {
      secrets[name] = newBmcPassword();
      changed = true;
    }
  }
  if (changed) await writeFileAtomic(labSecretsPath(), YAML.stringify(secrets), 0o600);
  else await fs.chmod(labSecretsPath(), 0o600);
  return secrets;
}

export function bmcPassword(secrets: Secrets, host: string): string {
  const password = secrets[bmcSecretName(host)];
  if (password === undefined) {
    throw new HastackError(
      "E_LAB_SECRETS",
      `Cannot find the BMC password of ${host} in ${labSecretsPath()}`,
      {
        hint: "run `hastack lab up` to create it",
      },
    );
  }
  return password;
}

export async function writeFileAtomic(file: string, text: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, text, { mode });
  await fs.chmod(tmp, mode);
  await fs.rename(tmp, file);
}
