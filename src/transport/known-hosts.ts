/**
 * @module
 * OpenSSH known_hosts: plain and hashed (`|1|salt|hash`) host patterns, `[host]:port`, wildcards,
 * negation, @revoked. Fingerprints are printed like OpenSSH (`SHA256:` + unpadded base64).
 */
import { createHash, createHmac } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface KnownHostEntry {
  marker?: "@revoked" | "@cert-authority";
  patterns: string[];
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: "ok" }
  | { kind: "unknown" }
  | { kind: "mismatch"; expected: string[] }
  | { kind: "revoked" };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority")
      marker = fields.shift() as KnownHostEntry["marker"];
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    entries.push({ marker, patterns: hosts.split(","), keyType, key: Buffer.from(key, "base64") });
  }
  return entries;
}

/** How OpenSSH names a host in known_hosts: bare for port 22, else `[host]:port`. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${re}$`, "i").test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  return globMatch(pattern, name);
}

export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = hostKeyName(host, port);
  let matched = false;
  for (const p of entry.patterns) {
    const negated = p.startsWith("!");
    if (patternMatches(negated ? p.slice(1) : p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type a wire-format public key blob starts with, e.g. "ssh-ed25519". */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return "";
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString("latin1");
}

/**
 * A host known under other key types only is a mismatch, not "unknown": silently accepting a
 * new key type is how a man in the middle would downgrade the pin.
 */
export function verifyHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const mine = entries.filter((e) => e.marker !== "@cert-authority" && entryMatches(e, host, port));
  if (mine.some((e) => e.marker === "@revoked" && e.key.equals(key))) return { kind: "revoked" };
  const pinned = mine.filter((e) => e.marker === undefined);
  if (pinned.length === 0) return { kind: "unknown" };
  if (pinned.some((e) => e.key.equals(key))) return { kind: "ok" };
  return { kind: "mismatch", expected: pinned.map((e) => `${e.keyType} ${fingerprint(e.key)}`) };
}

/** ssh2 host key algorithm names that yield keys of the given known_hosts types. */
export function hostKeyAlgorithms(keyTypes: Iterable<string>): string[] {
  const algos = new Set<string>();
  for (const t of keyTypes) {
    if (t === "ssh-rsa") for (const a of ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]) algos.add(a);
    else algos.add(t);
  }
  return [...algos];
}

export async function loadKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

let appendChain: Promise<void> = Promise.resolve();

/** Appends one line; appends from concurrent first contacts are serialized in this process. */
export function appendKnownHost(path: string, host: string, port: number, key: Buffer): Promise<void> {
  const line = `${hostKeyName(host, port)} ${keyTypeOf(key)} ${key.toString("base64")}\n`;
  const next = appendChain.then(async () => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await appendFile(path, line, { mode: 0o600 });
  });
  appendChain = next.catch(() => {});
  return next;
}
