import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprint, keyTypeOf, parseKnownHosts, verifyHostKey } from "./known-hosts.ts";

const dir = mkdtempSync(join(tmpdir(), "hastack-kh-"));

function makeKey(name: string): { blob: Buffer; line: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path]);
  const pub = readFileSync(`${path}.pub`, "utf8").trim();
  const [, b64] = pub.split(" ");
  return { blob: Buffer.from(b64 ?? "", "base64"), line: pub };
}

describe("known_hosts", () => {
  const a = makeKey("a");
  const b = makeKey("b");

  it("prints fingerprints exactly like ssh-keygen -l", () => {
    const out = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "a.pub")]).toString();
    expect(out).toContain(fingerprint(a.blob));
    expect(keyTypeOf(a.blob)).toBe("ssh-ed25519");
  });

  it("matches [host]:port, plain, wildcard and negated patterns", () => {
    const [type, key] = a.line.split(" ");
    const entries = parseKnownHosts(
      `# comment\n[127.0.0.1]:2222 ${type} ${key}\n*.lab,!bad.lab ${type} ${key}\n`,
    );
    expect(verifyHostKey(entries, "127.0.0.1", 2222, a.blob).kind).toBe("ok");
    expect(verifyHostKey(entries, "127.0.0.1", 22, a.blob).kind).toBe("unknown");
    expect(verifyHostKey(entries, "ctl1.lab", 22, a.blob).kind).toBe("ok");
    expect(verifyHostKey(entries, "bad.lab", 22, a.blob).kind).toBe("unknown");
    const v = verifyHostKey(entries, "127.0.0.1", 2222, b.blob);
    expect(v).toEqual({ kind: "mismatch", expected: [`ssh-ed25519 ${fingerprint(a.blob)}`] });
  });

  it("matches entries hashed by ssh-keygen -H", () => {
    const file = join(dir, "known_hosts");
    const [type, key] = a.line.split(" ");
    writeFileSync(file, `[10.0.0.5]:2200 ${type} ${key}\nctl2 ${type} ${key}\n`);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file]);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("|1|");
    const entries = parseKnownHosts(text);
    expect(verifyHostKey(entries, "10.0.0.5", 2200, a.blob).kind).toBe("ok");
    expect(verifyHostKey(entries, "ctl2", 22, a.blob).kind).toBe("ok");
    expect(verifyHostKey(entries, "ctl3", 22, a.blob).kind).toBe("unknown");
  });

  it("refuses revoked keys", () => {
    const [type, key] = a.line.split(" ");
    const entries = parseKnownHosts(`@revoked * ${type} ${key}\n`);
    expect(verifyHostKey(entries, "x", 22, a.blob).kind).toBe("revoked");
  });
});
