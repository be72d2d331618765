import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exampleTopology } from "../testing/fixtures.ts";
import type { Topology } from "../topology/types.ts";
import { readSecrets, writeSecrets } from "./secrets-file.ts";
import {
  certificateProblem,
  ensureSiteTls,
  publicNames,
  requireServableCertificate,
  TLS_SECRETS,
} from "./site-tls.ts";

// Real openssl (the CLI `secrets init` runs) and node:crypto's X.509 parser: nothing faked.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "site-tls-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function site(publicVip = "10.20.0.50", hostname?: string): Topology {
  const topology = exampleTopology("lab", (inv) => {
    inv.vips = { ...inv.vips, public: publicVip, ...(hostname ? { public_hostname: hostname } : {}) };
  });
  return { ...topology, secretsFile: join(dir, "secrets.yaml") };
}

describe("ensureSiteTls (tls.public: site-ca)", () => {
  it("makes a CA and a certificate for the public VIP that verifies against it, kept 0600", async () => {
    const topology = site();
    await writeSecrets(topology.secretsFile, { other: "x".repeat(32) });
    const first = await ensureSiteTls(topology);
    expect(first.issued.sort()).toEqual(Object.values(TLS_SECRETS).sort());
    const values = await readSecrets(topology.secretsFile);
    expect(values.other).toBe("x".repeat(32));
    const cert = new X509Certificate(values[TLS_SECRETS.cert] as string);
    const ca = new X509Certificate(values[TLS_SECRETS.caCert] as string);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIP("10.20.0.50")).toBe("10.20.0.50");
    expect(cert.checkIP("10.20.0.10")).toBeUndefined();
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    expect((await stat(topology.secretsFile)).mode & 0o777).toBe(0o600);
    // Nothing to do the second time.
    expect(await ensureSiteTls(topology)).toEqual({ issued: [] });
  });

  it("re-issues only the certificate when the public names change, and everything on a CA rotation", async () => {
    await writeSecrets(join(dir, "secrets.yaml"), {});
    await ensureSiteTls(site());
    const before = await readSecrets(join(dir, "secrets.yaml"));
    const moved = site("10.20.0.60", "cloud.example.org");
    expect(publicNames(moved)).toEqual({ ips: ["10.20.0.60"], dns: ["cloud.example.org"] });
    const again = await ensureSiteTls(moved);
    expect(again.issued.sort()).toEqual([TLS_SECRETS.cert, TLS_SECRETS.key].sort());
    expect(again.why).toBe("does not name 10.20.0.60, cloud.example.org");
    const after = await readSecrets(join(dir, "secrets.yaml"));
    expect(after[TLS_SECRETS.caKey]).toBe(before[TLS_SECRETS.caKey]);
    const cert = new X509Certificate(after[TLS_SECRETS.cert] as string);
    expect(cert.checkHost("cloud.example.org")).toBe("cloud.example.org");
    expect(cert.serialNumber).not.toBe(new X509Certificate(before[TLS_SECRETS.cert] as string).serialNumber);

    const rotated = await ensureSiteTls(moved, { rotate: TLS_SECRETS.caCert });
    expect(rotated.issued).toHaveLength(4);
    expect(rotated.why).toBe("not signed by the site CA");
  });

  it("re-issues a certificate with under 30 days left", async () => {
    await writeSecrets(join(dir, "secrets.yaml"), {});
    await ensureSiteTls(site());
    const values = await readSecrets(join(dir, "secrets.yaml"));
    const late = new Date(Date.now() + 380 * 86_400_000);
    expect(certificateProblem(values, publicNames(site()), late)).toMatch(/^expires in \d+ days$/);
    expect(certificateProblem(values, publicNames(site()), new Date())).toBeUndefined();
  });

  it("does nothing without site-ca, and refuses a rotation there", async () => {
    const off = { ...site(), tls: { public: "off" as const } };
    expect(await ensureSiteTls(off)).toEqual({ issued: [] });
    await expect(ensureSiteTls(off, { rotate: TLS_SECRETS.cert })).rejects.toMatchObject({
      code: "E_TLS_ISSUE",
    });
  });

  it("a deploy refuses a certificate that does not name a changed public VIP, before touching any host", async () => {
    await writeSecrets(join(dir, "secrets.yaml"), {});
    await ensureSiteTls(site());
    const values = await readSecrets(join(dir, "secrets.yaml"));
    expect(() => requireServableCertificate(site(), values)).not.toThrow();
    expect(() => requireServableCertificate(site("10.20.0.60"), values)).toThrow(
      expect.objectContaining({
        code: "E_TLS_CERT_UNFIT",
        message: expect.stringMatching(/does not name 10\.20\.0\.60/),
      }),
    );
    // Expiring soon still serves: status says so, the deploy goes on.
    expect(() =>
      requireServableCertificate(site(), values, new Date(Date.now() + 380 * 86_400_000)),
    ).not.toThrow();
    expect(() =>
      requireServableCertificate({ ...site("10.20.0.60"), tls: { public: "off" } }, values),
    ).not.toThrow();
  });
});
