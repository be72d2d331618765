import { randomBytes, randomInt } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, rename, stat } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { z } from "zod";
import type { SecretKind, SecretSpec } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";

/** A secret's name: the inventory schema's rule for `password_secret` (src/inventory/schema.ts). */
export const SECRET_NAME = /^[a-z][a-z0-9_]{0,63}$/;

const SecretsFile = z.record(z.string().regex(SECRET_NAME), z.string().min(1));
export type SecretValues = z.infer<typeof SecretsFile>;

export async function readSecrets(path: string): Promise<SecretValues> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
      throw new HastackError(
        "E_SECRETS_FILE_MISSING",
        `Cannot read secrets file ${path}: it does not exist`,
        {
          cause,
          hint: "run `hastack secrets init -i FILE` first",
        },
      );
    }
    throw new HastackError("E_SECRETS_FILE_READ", `Cannot read secrets file ${path}`, { cause });
  }
  await assertPrivate(path);
  // The parse error would quote the offending line, which may hold a secret: keep only its position.
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (cause) {
    const where = (cause as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new HastackError(
      "E_SECRETS_FILE_SYNTAX",
      `Cannot parse secrets file ${path}${where ? ` at line ${where.line}:${where.col}` : ""}`,
    );
  }
  const result = SecretsFile.safeParse(data);
  if (!result.success) {
    const keys = result.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new HastackError("E_SECRETS_FILE_SCHEMA", `Secrets file ${path} is malformed at: ${keys}`, {
      hint: "it must be a YAML map of secret_name: value",
    });
  }
  return result.data;
}

async function assertPrivate(path: string): Promise<void> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new HastackError(
      "E_SECRETS_FILE_MODE",
      `Secrets file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${path}` },
    );
  }
}

export interface InitResult {
  path: string;
  created: boolean;
  added: string[];
  rotated: string[];
}

/**
 * Creates the secrets file or adds the secrets it lacks; an existing value is never changed
 * except the one named by `rotate`. Values are written with mode 0600 via a temp file + rename.
 */
export async function initSecrets(
  path: string,
  specs: readonly SecretSpec[],
  /** `alsoRotatable`: names rotated elsewhere (the site's TLS), listed when `rotate` is unknown. */
  options: { rotate?: string; alsoRotatable?: readonly string[] } = {},
): Promise<InitResult> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  const values: SecretValues = exists ? await readSecrets(path) : {};
  const added: string[] = [];
  const rotated: string[] = [];
  if (options.rotate !== undefined) {
    const spec = specs.find((s) => s.name === options.rotate);
    if (!spec) {
      throw new HastackError(
        "E_SECRET_UNKNOWN",
        `Cannot rotate '${options.rotate}': the rotatable secrets are ${[...specs.map((s) => s.name), ...(options.alsoRotatable ?? [])].join(", ")}`,
      );
    }
    values[spec.name] = generateSecret(spec.kind, spec.length);
    rotated.push(spec.name);
  }
  for (const spec of specs) {
    if (values[spec.name] !== undefined) continue;
    values[spec.name] = generateSecret(spec.kind, spec.length);
    added.push(spec.name);
  }
  if (added.length > 0 || rotated.length > 0 || !exists) await writeSecrets(path, values);
  return { path, created: !exists, added, rotated };
}

/** Stores one value; a name the secrets file's schema would reject is refused before anything is written. */
export async function setSecret(path: string, name: string, value: string): Promise<void> {
  if (!SECRET_NAME.test(name)) {
    throw new HastackError(
      "E_SECRET_NAME",
      `Cannot set secret '${name}': a name is a lowercase letter, then up to 63 lowercase letters, digits or '_'`,
    );
  }
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  const values = exists ? await readSecrets(path) : {};
  values[name] = value;
  await writeSecrets(path, values);
}

export async function writeSecrets(path: string, values: SecretValues): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
  const temp = `${path}.tmp-${process.pid}`;
  // O_EXCL + 0600 at creation: the value is never on disk with wider permissions, not even briefly.
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(
      `# hastack secrets: keep private (mode 0600), back it up safely.\n${stringify(sorted)}`,
    );
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A new random value; `length` cuts it for consumers with a limit (keepalived's 8-character auth_pass). */
export function generateSecret(kind: SecretKind, length?: number): string {
  const value = generateFull(kind);
  return length === undefined ? value : value.slice(0, length);
}

function generateFull(kind: SecretKind): string {
  switch (kind) {
    case "password":
      return randomString(alphanumeric, 32);
    case "erlang-cookie":
      return randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 32);
    case "bytes-256":
      return randomBytes(256).toString("base64");
    case "hex-32":
      return randomBytes(32).toString("hex");
    case "cephx-key":
      return cephxKey();
  }
}

/**
 * What `ceph-authtool --gen-print-key` prints, made here so `secrets init` needs no Ceph tools:
 * type u16 = 1 (AES), created u32 sec + u32 nsec, length u16 = 16, then the 16 key bytes.
 */
function cephxKey(): string {
  const header = Buffer.alloc(12);
  header.writeUInt16LE(1, 0);
  header.writeUInt32LE(Math.floor(Date.now() / 1000), 2);
  header.writeUInt32LE(0, 6);
  header.writeUInt16LE(16, 10);
  return Buffer.concat([header, randomBytes(16)]).toString("base64");
}

function randomString(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
