import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SecretSpec } from "../services/types.ts";
import { maskSecrets, materialize, redact, secretPlaceholder } from "./secrets.ts";
import { initSecrets, readSecrets, setSecret } from "./secrets-file.ts";

const specs: SecretSpec[] = [
  { name: "db_root", kind: "password", description: "MariaDB root" },
  { name: "erlang_cookie", kind: "erlang-cookie", description: "RabbitMQ cookie" },
  { name: "corosync_authkey", kind: "bytes-256", description: "corosync authkey" },
];

async function tempFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "hastack-secrets-")), "site.secrets.yaml");
}

describe("secrets file", () => {
  it("creates a 0600 file with every secret, of the right shape", async () => {
    const path = await tempFile();
    const result = await initSecrets(path, specs);
    expect(result.created).toBe(true);
    expect(result.added.sort()).toEqual(["corosync_authkey", "db_root", "erlang_cookie"]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const values = await readSecrets(path);
    expect(values.db_root).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(values.erlang_cookie).toMatch(/^[A-Z]{32}$/);
    expect(Buffer.from(values.corosync_authkey ?? "", "base64")).toHaveLength(256);
  });

  it("adds only missing secrets and never changes existing ones; rotates one on demand", async () => {
    const path = await tempFile();
    await initSecrets(path, specs.slice(0, 1));
    const before = await readSecrets(path);
    const again = await initSecrets(path, specs);
    expect(again.added.sort()).toEqual(["corosync_authkey", "erlang_cookie"]);
    const after = await readSecrets(path);
    expect(after.db_root).toBe(before.db_root);
    const rotated = await initSecrets(path, specs, { rotate: "erlang_cookie" });
    expect(rotated.rotated).toEqual(["erlang_cookie"]);
    const last = await readSecrets(path);
    expect(last.erlang_cookie).not.toBe(after.erlang_cookie);
    expect(last.db_root).toBe(before.db_root);
  });

  it("names every rotatable secret, those rotated elsewhere too, when asked to rotate an unknown one", async () => {
    const path = await tempFile();
    const error = await initSecrets(path, specs, {
      rotate: "nope",
      alsoRotatable: ["tls_public_cert"],
    }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: "E_SECRET_UNKNOWN" });
    expect(String((error as Error).message)).toMatch(/'nope'.*db_root.*erlang_cookie.*tls_public_cert/);
  });

  it("refuses a world-readable secrets file and a malformed one without quoting it", async () => {
    const path = await tempFile();
    await writeFile(path, "db_root: hunter2hunter2\n", { mode: 0o644 });
    await expect(readSecrets(path)).rejects.toMatchObject({ code: "E_SECRETS_FILE_MODE" });
    const bad = await tempFile();
    await writeFile(bad, "db_root: [supersecretvalue\n", { mode: 0o600 });
    const error = await readSecrets(bad).catch((e: Error) => e);
    expect(error).toMatchObject({ code: "E_SECRETS_FILE_SYNTAX" });
    expect(String((error as Error).message)).not.toContain("supersecretvalue");
  });

  it("keeps values out of everything but materialized text", async () => {
    const text = `password = ${secretPlaceholder("db_root")}\n`;
    expect(maskSecrets(text)).toBe("password = <secret:db_root>\n");
    expect(materialize(text, { db_root: "s3cretValue" })).toBe("password = s3cretValue\n");
    expect(() => materialize(text, {})).toThrow(/db_root/);
    expect(redact("login failed for s3cretValue", { db_root: "s3cretValue" })).toBe(
      "login failed for <secret:db_root>",
    );
  });

  it("stores a set secret privately and refuses a name the file's own schema would reject", async () => {
    const path = await tempFile();
    await setSecret(path, "bmc_ctl1", "Passw0rd-for-ctl1");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readSecrets(path)).toEqual({ bmc_ctl1: "Passw0rd-for-ctl1" });
    const before = await readFile(path, "utf8");
    for (const bad of ["Bad-Name", "1st", "with space", "", `a${"b".repeat(64)}`]) {
      await expect(setSecret(path, bad, "value"), bad).rejects.toMatchObject({ code: "E_SECRET_NAME" });
      // The rule is the reader's: a file holding that name would not load either.
      const other = await tempFile();
      await writeFile(other, `${JSON.stringify(bad)}: value\n`, { mode: 0o600 });
      await expect(readSecrets(other), bad).rejects.toMatchObject({ code: "E_SECRETS_FILE_SCHEMA" });
    }
    expect(await readFile(path, "utf8")).toBe(before);
  });
});
