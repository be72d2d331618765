import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSecrets } from "../../inventory/secrets-file.ts";
import type { Transport } from "../../transport/types.ts";
import { sampleExtras } from "./fixtures.ts";
import { decrypt, encrypt, keyFilePath, keyId, loadKey } from "./keys-crypto.ts";
import { checkKeys, collectKeys, openKeys, sealKeys } from "./keys-part.ts";

const ID = "20261204T151230Z";
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hastack-keys-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A controller with one keyring, as the transport shows it (the only fake: no host here). */
function controller(keyring: string): Transport {
  return {
    name: "ctl1",
    exec: async () => ({
      code: 0,
      stdout: "/etc/ceph/ceph.client.admin.keyring\n",
      stderr: "",
      durationMs: 0,
    }),
    readFile: async () => Buffer.from(keyring),
  } as unknown as Transport;
}

describe("the backup key file", () => {
  it("is beside the inventory by default, else where settings say (relative to the inventory)", () => {
    const topology = { source: "/srv/site/site.yaml" };
    expect(keyFilePath(topology, {})).toBe("/srv/site/site.backup-key");
    expect(keyFilePath(topology, { key_file: "keys/backup.key" })).toBe("/srv/site/keys/backup.key");
    expect(keyFilePath(topology, { key_file: "/etc/hastack/b.key" })).toBe("/etc/hastack/b.key");
  });

  it("is made 0600 when missing (run), never made by verify, refused when others can read it", async () => {
    const path = join(dir, "site.backup-key");
    await expect(loadKey(path, false)).rejects.toThrow(
      `Cannot read the backup key file ${path}: it does not exist`,
    );
    const made = await loadKey(path, true);
    expect(made.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const again = await loadKey(path, true);
    expect(again).toEqual({ key: made.key, created: false });
    await writeFile(path, "short\n", { mode: 0o600 });
    await expect(loadKey(path, false)).rejects.toThrow("it holds 3 bytes, not base64 of 32");
    const open = join(dir, "open.key");
    await writeFile(open, `${made.key.toString("base64")}\n`, { mode: 0o644 });
    await expect(loadKey(open, false)).rejects.toThrow("is readable by others (mode 644)");
  });
});

describe("AES-256-GCM of the keys part", () => {
  const key = Buffer.alloc(32, 1);
  it("round-trips; a wrong key, another backup's id, a flipped byte or another file are refused", () => {
    const blob = encrypt(Buffer.from("secret bytes"), key, ID);
    expect(blob.includes(Buffer.from("secret bytes"))).toBe(false);
    expect(decrypt(blob, key, ID, "it").toString()).toBe("secret bytes");
    const refused = /Cannot decrypt it with key [0-9a-f]{16}: the key is not the one it was encrypted with/;
    expect(() => decrypt(blob, Buffer.alloc(32, 2), ID, "it")).toThrow(refused);
    expect(() => decrypt(blob, key, "20261204T151231Z", "it")).toThrow(refused);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
    expect(() => decrypt(flipped, key, ID, "it")).toThrow(refused);
    expect(() => decrypt(Buffer.from("{}"), key, ID, "it")).toThrow(
      "Cannot decrypt it: not a hastack keys part",
    );
    expect(keyId(key)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("seals the secrets file and the keyrings; verify opens and checks them, naming files only", async () => {
    const secretsFile = join(dir, "site.secrets.yaml");
    await writeSecrets(secretsFile, { keystone_admin: "Pa55word-not-printed", galera_sst: "x".repeat(32) });
    const keyring = "[client.admin]\n\tkey = AQBsecretsecretsecretsecretsecret==\n";
    const bundle = await collectKeys(secretsFile, controller(keyring));
    const sealed = sealKeys(bundle, key, ID);
    expect(sealed.keys).toEqual({
      cipher: "aes-256-gcm",
      keyId: keyId(key),
      files: ["site.secrets.yaml", "/etc/ceph/ceph.client.admin.keyring"],
    });
    const extra = { ...(sampleExtras()[2] as object), keys: sealed.keys } as Parameters<typeof checkKeys>[1];
    const finding = checkKeys(openKeys(sealed.blob, key, ID), extra);
    expect(finding).toEqual({
      ok: true,
      check: "keys",
      detail: `decrypted with key ${keyId(key)}: site.secrets.yaml (2 secrets), /etc/ceph/ceph.client.admin.keyring (client.admin)`,
    });
    expect(JSON.stringify(finding)).not.toMatch(/Pa55word|AQBsecret/);
    // A keyring that is not one, and a secrets file that is not one: named, not quoted.
    const bad = sealKeys(await collectKeys(secretsFile, controller("key: AQBsecret")), key, ID);
    expect(checkKeys(openKeys(bad.blob, key, ID), extra)).toEqual({
      ok: false,
      check: "keys",
      detail: "/etc/ceph/ceph.client.admin.keyring is not a keyring",
    });
    await writeFile(secretsFile, "- not a map\n", { mode: 0o600 });
    await expect(collectKeys(secretsFile, controller(keyring))).rejects.toThrow(/malformed/);
    expect(await readFile(secretsFile, "utf8")).toBe("- not a map\n");
  });
});

describe("hastack backup decrypt-keys (the CLI, as an operator runs it)", () => {
  it("writes the files 0600 into a new directory and prints their names only; refuses another id and a used directory", async () => {
    const keyFile = join(dir, "cli.backup-key");
    const { key } = await loadKey(keyFile, true);
    const secretsFile = join(dir, "cli.secrets.yaml");
    await writeSecrets(secretsFile, { keystone_admin: "Pa55word-not-printed" });
    const keyring = "[client.cinder]\n\tkey = AQBsecretsecretsecretsecretsecret==\n";
    const sealed = sealKeys(await collectKeys(secretsFile, controller(keyring)), key, ID);
    const enc = join(dir, "keys.enc");
    await writeFile(enc, sealed.blob);
    const out = join(dir, "restored");
    const cli = (id: string) =>
      promisify(execFile)(
        process.execPath,
        ["src/cli/main.ts", "backup", "decrypt-keys", enc, "--id", id, "--out", out, "--key-file", keyFile],
        { cwd: join(import.meta.dirname, "../../..") },
      );
    const { stdout } = await cli(ID);
    expect(stdout).toBe(
      `cli.secrets.yaml -> ${out}/cli.secrets.yaml\n/etc/ceph/ceph.client.admin.keyring -> ${out}/ceph.client.admin.keyring\n`,
    );
    expect(await readFile(join(out, "ceph.client.admin.keyring"), "utf8")).toBe(keyring);
    expect(await readFile(join(out, "cli.secrets.yaml"), "utf8")).toBe(await readFile(secretsFile, "utf8"));
    expect((await stat(join(out, "cli.secrets.yaml"))).mode & 0o777).toBe(0o600);
    expect((await stat(out)).mode & 0o777).toBe(0o700);
    await expect(cli(ID)).rejects.toMatchObject({ stderr: expect.stringContaining("it is not empty") });
    await rm(out, { recursive: true });
    const other = await cli("20261204T151231Z").catch((e: { stderr: string }) => e);
    expect((other as { stderr: string }).stderr).toMatch(/E_BACKUP_KEY.*not the one it was encrypted with/);
    expect(JSON.stringify(other)).not.toMatch(/Pa55word|AQBsecret/);
  }, 60_000);
});
