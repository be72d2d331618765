/**
 * @module
 * Keystone's Fernet and credential key repositories as pure data, derived from secrets.
 *
 * A repository is a directory of files named by integers: the highest is the primary key
 * (tokens are encrypted with it), 0 is the staged key (the next primary), the others are
 * secondaries; every one of them decrypts. The secrets file holds one value per repository,
 * `<seed>[:<generation>]` (`hex-32`, so `secrets init` makes it): key n is HMAC-SHA256(seed, n),
 * and generation g means primary n = g, staged n = g + 1, secondaries down to the active limit.
 * So every controller derives the same repository without keys ever being copied between them,
 * a host's keys reveal no future key (HMAC is one-way), and a rotation is one number going up.
 */
import { createHmac } from "node:crypto";
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";

export const FERNET_SECRET = "keystone_fernet_keys";
export const CREDENTIAL_SECRET = "keystone_credential_keys";
export const FERNET_DIR = "/etc/keystone/fernet-keys";
export const CREDENTIAL_DIR = "/etc/keystone/credential-keys";

/** Keystone's default token lifetime (s). */
export const TOKEN_EXPIRATION_S = 3600;
/** Keystone's default: an expired token may still be validated this long (s) with allow_expired. */
export const ALLOW_EXPIRED_WINDOW_S = 172_800;
/** The rotation period this repository is sized for (s): `hastack keystone rotate-keys` daily. */
export const ROTATION_INTERVAL_S = 86_400;
/**
 * Keys kept: a key must outlive every token it encrypted (expiry plus the allow-expired window),
 * one secondary per rotation period of that span, plus primary and staged (Keystone's FAQ rule,
 * as Kolla-Ansible computes it). Rotating more often than daily shortens that guarantee.
 */
export const FERNET_MAX_ACTIVE_KEYS =
  Math.ceil((TOKEN_EXPIRATION_S + ALLOW_EXPIRED_WINDOW_S) / ROTATION_INTERVAL_S) + 2;
/** Credentials are encrypted at rest; hastack never rotates them (credential_migrate would follow). */
export const CREDENTIAL_MAX_ACTIVE_KEYS = 3;

const KeySecret = z
  .string()
  .regex(/^[0-9a-f]{64}(:[1-9][0-9]{0,8})?$/, "a 64-digit hex seed, optionally :generation");

export interface KeyState {
  seed: string;
  generation: number;
}

/** The secret's value as seed and generation; the value itself is never put in the error. */
export function parseKeySecret(name: string, value: string): KeyState {
  const parsed = KeySecret.safeParse(value);
  if (!parsed.success)
    throw new HastackError(
      "E_KEYSTONE_KEYS",
      `Cannot read secret ${name}: it is not <hex seed>[:generation]`,
      {
        hint: `\`hastack secrets init --rotate ${name}\` makes a new one (every issued token becomes invalid)`,
      },
    );
  const [seed = "", generation = "1"] = parsed.data.split(":");
  return { seed, generation: Number(generation) };
}

export function formatKeySecret(state: KeyState): string {
  return state.generation === 1 ? state.seed : `${state.seed}:${state.generation}`;
}

/** Key n: 32 bytes, URL-safe base64 with padding, as Fernet (and keystone-manage fernet_setup) writes it. */
export function deriveKey(seed: string, n: number): string {
  const bytes = createHmac("sha256", Buffer.from(seed, "hex")).update(`keystone key ${n}`).digest();
  return bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** File name -> key text, for generation g of a repository keeping `maxActive` keys. */
export function repository(state: KeyState, maxActive: number): Map<string, string> {
  const g = state.generation;
  const out = new Map<string, string>([["0", deriveKey(state.seed, g + 1)]]);
  for (let n = g; n >= 1 && n > g - (maxActive - 1); n--) out.set(String(n), deriveKey(state.seed, n));
  return out;
}

/** The primary key's file name of a repository listing (the highest number), or undefined when empty. */
export function primaryOf(names: Iterable<string>): number | undefined {
  const numbers = [...names].filter((n) => /^\d+$/.test(n)).map(Number);
  return numbers.length === 0 ? undefined : Math.max(...numbers);
}
