/**
 * @module
 * The public VIP's TLS material, kept in the secrets file beside the passwords (mode 0600):
 * a site CA and the certificate HAProxy serves, issued for the public VIP and public_hostname.
 * `hastack secrets init` makes what is missing and re-issues a certificate that no longer fits
 * (other names, another CA, under 30 days left); deploy only distributes. openssl does the
 * cryptography (X.509 writing is not in node:crypto); node:crypto's X509Certificate checks it.
 */
import { execFile } from "node:child_process";
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Topology } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { readSecrets, type SecretValues, writeSecrets } from "./secrets-file.ts";

/** Secret names of the TLS material. */
export const TLS_SECRETS = {
  caKey: "tls_ca_key",
  caCert: "tls_ca_cert",
  key: "tls_public_key",
  cert: "tls_public_cert",
} as const;

/** Kept in the secrets file with their keys, but public: a file holding only these may be world-readable. */
export const PUBLIC_TLS_VALUES: readonly string[] = [TLS_SECRETS.caCert, TLS_SECRETS.cert];

/** Days before expiry at which `secrets init` re-issues and `status` warns. */
export const RENEW_DAYS = 30;
const CA_DAYS = 3650;
/** What browsers accept for a server certificate. */
const CERT_DAYS = 397;

/** The names the public certificate must carry: the public VIP, and public_hostname when it is a name. */
export function publicNames(topology: Topology): { ips: string[]; dns: string[] } {
  const ips = [topology.vips.public];
  const host = topology.vips.publicHost;
  if (isIP(host) && !ips.includes(host)) ips.push(host);
  return { ips, dns: isIP(host) ? [] : [host] };
}

/** The secrets an operator stores for `tls.public: provided`. */
export function providedTlsSecrets(topology: Topology): { name: string; description: string }[] {
  if (topology.tls.public !== "provided") return [];
  return [
    { name: TLS_SECRETS.cert, description: "PEM certificate (full chain) for the public VIP" },
    { name: TLS_SECRETS.key, description: "PEM private key of that certificate" },
    {
      name: TLS_SECRETS.caCert,
      description: "PEM certificate of the CA that signed it (for openrc and status)",
    },
  ];
}

const NO_CERTIFICATE = "no certificate yet";

/** Why a stored certificate cannot serve, or undefined when it can. */
export function certificateProblem(
  values: SecretValues,
  names: { ips: string[]; dns: string[] },
  now: Date,
): string | undefined {
  const certPem = values[TLS_SECRETS.cert];
  const keyPem = values[TLS_SECRETS.key];
  const caPem = values[TLS_SECRETS.caCert];
  if (!certPem || !keyPem || !caPem) return NO_CERTIFICATE;
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    ca = new X509Certificate(caPem);
  } catch (cause) {
    throw new HastackError(
      "E_TLS_CERT",
      `Cannot read the stored certificate ${TLS_SECRETS.cert} or ${TLS_SECRETS.caCert}`,
      {
        cause,
      },
    );
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return "not signed by the site CA";
  const missing = [
    ...names.ips.filter((ip) => cert.checkIP(ip) === undefined),
    ...names.dns.filter((dns) => cert.checkHost(dns) === undefined),
  ];
  if (missing.length > 0) return `does not name ${missing.join(", ")}`;
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return "its key is not the stored key";
  const left = daysLeft(cert, now);
  if (left < RENEW_DAYS) return `expires in ${left} days`;
  return undefined;
}

/**
 * Before a deploy with TLS on: the stored certificate must serve the site as it is now. A public
 * VIP or hostname changed in the inventory without `secrets init` would otherwise be deployed
 * with a certificate that does not name it, and every client would refuse it. Expiring soon is
 * not refused here (it still serves; `status` says so).
 */
export function requireServableCertificate(topology: Topology, values: SecretValues, now = new Date()): void {
  // Hand-made topologies (tests of the deploy engine) may carry no tls block at all.
  if ((topology.tls?.public ?? "off") === "off") return;
  const problem = certificateProblem(values, publicNames(topology), now);
  // None stored yet: the steps that need it say which secret is missing (E_SECRET_MISSING).
  if (!problem || problem.startsWith("expires in") || problem === NO_CERTIFICATE) return;
  const fix =
    topology.tls.public === "site-ca"
      ? "run `hastack secrets init`: it issues a certificate that fits"
      : `store one that fits with \`hastack secrets set ${TLS_SECRETS.cert}\` (and its key and CA)`;
  throw new HastackError(
    "E_TLS_CERT_UNFIT",
    `Cannot deploy ${topology.cluster} with TLS on the public VIP: the stored certificate (${TLS_SECRETS.cert}) ${problem}`,
    { hint: fix },
  );
}

export function daysLeft(cert: X509Certificate, now: Date): number {
  return Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000);
}

export interface TlsResult {
  /** Secret names written this time. */
  issued: string[];
  /** Why the certificate was (re-)issued, when it was. */
  why?: string;
}

/**
 * For `tls.public: site-ca`: a CA when there is none (or `rotate` names it), and a certificate
 * when the stored one cannot serve (or `rotate` names it). Other modes: nothing.
 */
export async function ensureSiteTls(
  topology: Topology,
  options: { rotate?: string; now?: Date } = {},
): Promise<TlsResult> {
  if (topology.tls.public !== "site-ca") {
    if (options.rotate)
      throw new HastackError(
        "E_TLS_ISSUE",
        `Cannot rotate ${options.rotate}: tls.public is ${topology.tls.public}, and hastack issues certificates only with site-ca`,
      );
    return { issued: [] };
  }
  const now = options.now ?? new Date();
  const values = await readSecrets(topology.secretsFile);
  const issued: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), "hastack-tls-"));
  try {
    const newCa =
      options.rotate === TLS_SECRETS.caCert ||
      !values[TLS_SECRETS.caKey] ||
      !values[TLS_SECRETS.caCert] ||
      daysLeft(new X509Certificate(values[TLS_SECRETS.caCert] as string), now) < RENEW_DAYS;
    if (newCa) {
      Object.assign(values, await makeCa(dir, topology.cluster));
      issued.push(TLS_SECRETS.caKey, TLS_SECRETS.caCert);
    }
    const names = publicNames(topology);
    const problem =
      options.rotate === TLS_SECRETS.cert ? "rotation asked" : certificateProblem(values, names, now);
    if (problem) {
      Object.assign(values, await makeCertificate(dir, values, names));
      issued.push(TLS_SECRETS.key, TLS_SECRETS.cert);
    }
    if (issued.length > 0) await writeSecrets(topology.secretsFile, values);
    return problem ? { issued, why: problem } : { issued };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeCa(dir: string, cluster: string): Promise<SecretValues> {
  const key = join(dir, "ca.key");
  const cert = join(dir, "ca.crt");
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    String(CA_DAYS),
    "-subj",
    `/O=hastack/CN=hastack ${cluster} site CA`,
    "-addext",
    "basicConstraints=critical,CA:TRUE,pathlen:0",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return {
    [TLS_SECRETS.caKey]: (await readFile(key, "utf8")).trimEnd(),
    [TLS_SECRETS.caCert]: (await readFile(cert, "utf8")).trimEnd(),
  };
}

async function makeCertificate(
  dir: string,
  values: SecretValues,
  names: { ips: string[]; dns: string[] },
): Promise<SecretValues> {
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.crt");
  await writeFile(caKey, values[TLS_SECRETS.caKey] ?? "", { mode: 0o600 });
  await writeFile(caCert, values[TLS_SECRETS.caCert] ?? "");
  const key = join(dir, "public.key");
  const csr = join(dir, "public.csr");
  const cert = join(dir, "public.crt");
  const ext = join(dir, "public.ext");
  const san = [...names.ips.map((ip) => `IP:${ip}`), ...names.dns.map((d) => `DNS:${d}`)].join(",");
  await writeFile(
    ext,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${san}`,
      "",
    ].join("\n"),
  );
  await openssl([
    "req",
    "-new",
    ...EC_KEY,
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    `/CN=${names.dns[0] ?? names.ips[0]}`,
  ]);
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caCert,
    "-CAkey",
    caKey,
    // A random serial: a re-issued certificate must not repeat its predecessor's.
    "-set_serial",
    `0x${randomBytes(16).toString("hex")}`,
    "-days",
    String(CERT_DAYS),
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  return {
    [TLS_SECRETS.key]: (await readFile(key, "utf8")).trimEnd(),
    [TLS_SECRETS.cert]: (await readFile(cert, "utf8")).trimEnd(),
  };
}

/** An ECDSA P-256 key without a passphrase (HAProxy loads it unattended). */
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const said = stderr.trim().split("\n").slice(-2).join(" ");
      reject(
        new HastackError(
          "E_TLS_ISSUE",
          `Cannot run openssl ${args[0]}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "openssl is not installed" : said || error.message}`,
          {
            cause: error,
            hint: "install the openssl package (apt-get install openssl)",
          },
        ),
      );
    });
  });
}
