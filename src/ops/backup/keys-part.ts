/**
 * @module
 * The keys part: the inventory's secrets file (Keystone's Fernet and credential keys derive from
 * it, and every password of the site is in it) and Ceph's keyrings from a controller's /etc/ceph,
 * as one JSON bundle encrypted with the backup key (keys-crypto.ts). What is said about it
 * anywhere (manifest, output, errors) is file names and counts, never a byte of their content.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { readSecrets, SECRET_NAME } from "../../inventory/secrets-file.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Finding } from "./content.ts";
import { EXTRA_NAMES, type KeysExtra } from "./extras-manifest.ts";
import { decrypt, encrypt, keyId } from "./keys-crypto.ts";

export const KEYRING_GLOB = "/etc/ceph/*.keyring";

const BundleSchema = z.strictObject({
  format: z.literal(1),
  files: z.array(z.strictObject({ path: z.string().min(1), mode: z.int(), content: z.base64() })).min(1),
});
type Bundle = z.output<typeof BundleSchema>;

/** The secrets file (read as `hastack secrets` reads it: 0600 and well formed) and the host's keyrings. */
export async function collectKeys(secretsFile: string, t: Transport): Promise<Bundle> {
  await readSecrets(secretsFile);
  const files: Bundle["files"] = [
    { path: basename(secretsFile), mode: 0o600, content: (await readFile(secretsFile)).toString("base64") },
  ];
  // Names only on stdout: `ls` of a glob that matches nothing prints nothing (no Ceph here).
  const listed = await t.exec(
    ["bash", "-c", `shopt -s nullglob; for f in ${KEYRING_GLOB}; do echo "$f"; done`],
    {
      timeoutMs: 30_000,
    },
  );
  if (listed.code !== 0)
    throw new HastackError("E_BACKUP", `Cannot list ${KEYRING_GLOB} on ${t.name}: exit code ${listed.code}`);
  for (const path of listed.stdout.split("\n").filter((l) => l !== "")) {
    const content = await t.readFile(path);
    if (content === undefined)
      throw new HastackError("E_BACKUP", `Cannot read ${path} on ${t.name}: it went away while being read`);
    files.push({ path, mode: 0o600, content: content.toString("base64") });
  }
  return { format: 1, files };
}

/** The encrypted part and what the manifest says of it (its size and sha256 are the store's). */
export function sealKeys(bundle: Bundle, key: Buffer, id: string): { blob: Buffer; keys: KeysExtra["keys"] } {
  const blob = encrypt(Buffer.from(JSON.stringify(bundle)), key, id);
  return { blob, keys: { cipher: "aes-256-gcm", keyId: keyId(key), files: bundle.files.map((f) => f.path) } };
}

/** The bundle back out of a stored part; E_BACKUP_KEY for a wrong key or a changed byte. */
export function openKeys(blob: Buffer, key: Buffer, id: string): Bundle {
  const where = `backup ${id}'s ${EXTRA_NAMES.keys}`;
  const plain = decrypt(blob, key, id, where);
  let data: unknown;
  try {
    data = JSON.parse(plain.toString("utf8"));
  } catch {
    throw new HastackError("E_BACKUP_KEY", `Cannot read ${where}: decrypted, but not JSON`);
  }
  const parsed = BundleSchema.safeParse(data);
  if (!parsed.success)
    throw new HastackError("E_BACKUP_KEY", `Cannot read ${where}: decrypted, but not a keys bundle`);
  return parsed.data;
}

const SecretsMap = z.record(z.string().regex(SECRET_NAME), z.string().min(1));

/**
 * verify's check of a decrypted bundle: the files the manifest names, the secrets file a map of
 * secrets, each keyring with a `[entity]` and a `key = `. Says names and counts only.
 */
export function checkKeys(bundle: Bundle, extra: KeysExtra): Finding {
  const problems: string[] = [];
  const paths = bundle.files.map((f) => f.path);
  if (paths.join("\n") !== extra.keys.files.join("\n"))
    problems.push(`holds ${paths.join(", ")}, the manifest says ${extra.keys.files.join(", ")}`);
  const said: string[] = [];
  for (const [i, f] of bundle.files.entries()) {
    const text = Buffer.from(f.content, "base64").toString("utf8");
    if (i === 0) {
      let data: unknown;
      try {
        data = parse(text);
      } catch {
        data = undefined;
      }
      const secrets = SecretsMap.safeParse(data);
      if (secrets.success) said.push(`${f.path} (${Object.keys(secrets.data).length} secrets)`);
      else problems.push(`${f.path} is not a secrets file`);
      continue;
    }
    const entities = [...text.matchAll(/^\s*\[([^\]\n]+)\]\s*$/gm)].map((m) => m[1]);
    if (entities.length === 0 || !/^\s*key\s*=\s*\S+/m.test(text))
      problems.push(`${f.path} is not a keyring`);
    else said.push(`${f.path} (${entities.join(", ")})`);
  }
  return problems.length === 0
    ? { ok: true, check: "keys", detail: `decrypted with key ${extra.keys.keyId}: ${said.join(", ")}` }
    : { ok: false, check: "keys", detail: problems.join("; ") };
}
