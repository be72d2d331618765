/**
 * @module
 * `hastack backup decrypt-keys`: a keys part copied off the store, decrypted on the operator's
 * machine with the backup key file, its files written into a new directory (0700, each file
 * 0600): the secrets file under its own name, each keyring under its base name. Nothing of their
 * content is printed; it needs no site to answer (a site being rebuilt has none).
 */
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { HastackError } from "../../util/errors.ts";
import { loadKey } from "./keys-crypto.ts";
import { openKeys } from "./keys-part.ts";
import { BackupIdSchema } from "./manifest.ts";

export interface DecryptedKeys {
  dir: string;
  files: { from: string; to: string }[];
}

export async function decryptKeysFile(
  file: string,
  id: string,
  keyFile: string,
  outDir: string,
): Promise<DecryptedKeys> {
  if (!BackupIdSchema.safeParse(id).success)
    throw new HastackError(
      "E_BACKUP_KEY",
      `Cannot decrypt ${file}: ${id} is not a backup id like 20261204T151230Z`,
    );
  const { key } = await loadKey(keyFile, false);
  const bundle = openKeys(await readFile(file), key, id);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  if ((await readdir(outDir)).length > 0)
    throw new HastackError("E_BACKUP_KEY", `Cannot decrypt ${file} into ${outDir}: it is not empty`);
  const files: DecryptedKeys["files"] = [];
  for (const f of bundle.files) {
    const to = join(outDir, basename(f.path));
    // O_EXCL + 0600 at creation, as the secrets file is written: never readable by others.
    const handle = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(Buffer.from(f.content, "base64"));
    } finally {
      await handle.close();
    }
    files.push({ from: f.path, to });
  }
  return { dir: outDir, files };
}
