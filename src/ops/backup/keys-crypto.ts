/**
 * @module
 * The backup key and the keys part's encryption. AES-256-GCM through node:crypto, in the hastack
 * process on the operator's machine, rather than `openssl enc` on a controller: `openssl enc`
 * has no authenticated mode (it refuses GCM), so a wrong key or a changed byte would decrypt to
 * garbage without a word, and the key would have to reach the controller (a file, or argv that
 * any user there can read). GCM's tag makes a wrong key or a damaged part an error, the backup
 * id is bound in as associated data (a keys part cannot pass for another backup's), and the key
 * never leaves this machine. The key file is made like the secrets file: 0600 from its creation.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import type { BackupSettings } from "../../services/galera/backup-settings.ts";
import type { Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";

/** The blob's first bytes: the format, so that another file is refused by name, not by a failed tag. */
const MAGIC = Buffer.from("HSTKEYS1");
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** services.backup.key_file, relative to the inventory; default `<inventory>.backup-key` beside it. */
export function keyFilePath(
  topology: Pick<Topology, "source">,
  settings: Pick<BackupSettings, "key_file">,
): string {
  const path = settings.key_file;
  if (path === undefined) return topology.source.replace(/(\.ya?ml)?$/, ".backup-key");
  return path.startsWith("~/") ? resolve(homedir(), path.slice(2)) : resolve(dirname(topology.source), path);
}

/** Names a key without revealing it: 16 hex digits of its sha256. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/**
 * The key in `path` (base64 of 32 bytes on one line). `create`: a missing file is made (0600,
 * O_EXCL: never readable by others, and a file another process just made is not overwritten).
 * A file readable by group or others is refused, as the secrets file is.
 */
export async function loadKey(path: string, create: boolean): Promise<{ key: Buffer; created: boolean }> {
  const found = await stat(path).catch(() => undefined);
  if (!found) {
    if (!create)
      throw new HastackError("E_BACKUP_KEY", `Cannot read the backup key file ${path}: it does not exist`, {
        hint: "the keys part can only be decrypted with the key file `backup run` made: restore it from where you keep it",
      });
    const key = randomBytes(KEY_BYTES);
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(`${key.toString("base64")}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return { key, created: true };
  }
  if ((found.mode & 0o077) !== 0)
    throw new HastackError(
      "E_BACKUP_KEY",
      `Cannot use the backup key file ${path}: it is readable by others (mode ${(found.mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${path}` },
    );
  const key = Buffer.from((await readFile(path, "utf8")).trim(), "base64");
  // The file's content is never quoted: only its length is said.
  if (key.length !== KEY_BYTES)
    throw new HastackError(
      "E_BACKUP_KEY",
      `Cannot use the backup key file ${path}: it holds ${key.length} bytes, not base64 of ${KEY_BYTES}`,
    );
  return { key, created: false };
}

/** MAGIC, IV, tag, ciphertext; the backup id is the associated data. */
export function encrypt(plain: Buffer, key: Buffer, id: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.concat([MAGIC, Buffer.from(id)]));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
}

/** The plain bytes; a wrong key, another backup's part or a changed byte is E_BACKUP_KEY. */
export function decrypt(blob: Buffer, key: Buffer, id: string, where: string): Buffer {
  const head = MAGIC.length + IV_BYTES + TAG_BYTES;
  if (blob.length < head || !blob.subarray(0, MAGIC.length).equals(MAGIC))
    throw new HastackError("E_BACKUP_KEY", `Cannot decrypt ${where}: not a hastack keys part`);
  const iv = blob.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(Buffer.concat([MAGIC, Buffer.from(id)]));
  decipher.setAuthTag(blob.subarray(MAGIC.length + IV_BYTES, head));
  try {
    return Buffer.concat([decipher.update(blob.subarray(head)), decipher.final()]);
  } catch {
    throw new HastackError(
      "E_BACKUP_KEY",
      `Cannot decrypt ${where} with key ${keyId(key)}: the key is not the one it was encrypted with, or the part was changed`,
    );
  }
}
