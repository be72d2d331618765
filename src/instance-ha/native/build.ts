/**
 * @module
 * Builds hb-recv (hb-recv.c) on the deploying machine, once per version of its source: into
 * node_modules/.cache/hastack/ under the checkout, named by the source's sha256, so a deploy, a
 * test or a bench that finds it there spends nothing. The controllers get the binary, never a
 * compiler (the engine's program ships it: services/instance-ha/programs.ts).
 *
 * It needs cc, the C library's headers and libcrypto's (Debian: gcc, libc6-dev, libssl-dev;
 * scripts/bootstrap.sh installs them); the controllers need only libcrypto.so.3, which OpenSSH
 * and Python's ssl module already pull in.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HastackError } from "../../util/errors.ts";

const SOURCE = fileURLToPath(new URL("./hb-recv.c", import.meta.url));
const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url));
const FLAGS = ["-O2", "-Wall", "-Wextra", "-Werror"];
const LIBS = ["-lcrypto", "-lm"];

export interface BuiltReceiver {
  path: string;
  data: Buffer;
}

/** The path of hb-recv built from this checkout's source, built first if it is not there yet. */
export async function buildReceiver(
  cacheRoot = join(CHECKOUT, "node_modules", ".cache", "hastack"),
): Promise<BuiltReceiver> {
  const source = await readFile(SOURCE);
  const tag = createHash("sha256").update(source).update(FLAGS.join(" ")).digest("hex").slice(0, 16);
  const path = join(cacheRoot, `hb-recv-${tag}`);
  const there = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!there) {
    await mkdir(cacheRoot, { recursive: true });
    // Built beside, then renamed: two builds at once (a test and a deploy) never see half a file.
    const partial = `${path}.${process.pid}.tmp`;
    try {
      await promisify(execFile)("cc", [...FLAGS, "-o", partial, SOURCE, ...LIBS], { timeout: 120_000 });
    } catch (error) {
      const e = error as { code?: string | number; stderr?: string; message: string };
      const why =
        e.code === "ENOENT"
          ? "cc is not installed"
          : (e.stderr ?? e.message).trim().split("\n").slice(0, 3).join("; ");
      throw new HastackError("E_HA_NATIVE_BUILD", `Cannot build the heartbeat receiver ${SOURCE}: ${why}`, {
        hint: "apt-get install gcc libc6-dev libssl-dev (scripts/bootstrap.sh does)",
        cause: error,
      });
    }
    await rename(partial, path);
  }
  return { path, data: await readFile(path) };
}
