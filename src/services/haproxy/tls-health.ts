/**
 * @module
 * Status of the public VIP's TLS, as a client outside sees it: every TLS listener answers over
 * HTTPS with a certificate that verifies against the site CA (curl --cacert, no -k), and the
 * certificate HAProxy serves has more than RENEW_DAYS left.
 */

import { isIP } from "node:net";
import type { ProbeContext, ProbeResult, ProbeSpec } from "../../health/types.ts";
import { RENEW_DAYS } from "../../inventory/site-tls.ts";
import type { Topology } from "../../topology/types.ts";
import { lastLine } from "../../util/text.ts";
import { controllerNames } from "../hosts.ts";
import type { Frontend } from "../types.ts";
import { PUBLIC_PEM } from "./config.ts";
import { SITE_CA_PATH } from "./tls.ts";

/**
 * $1 the CA file, $2 the certificate file, then name url resolve triples ("-" when the URL's host
 * is the VIP itself). Prints `cert <notAfter>` then `<name> <http code> <curl exit>` per listener.
 */
const SCRIPT = `set -u
ca=$1; pem=$2; shift 2
echo "cert $(openssl x509 -noout -enddate -in "$pem" 2>&1 | sed 's/^notAfter=//')"
while [ $# -ge 3 ]; do
  if [ "$3" = - ]; then r=""; else r="--resolve $3"; fi
  code=$(curl -sS -m 10 --cacert "$ca" $r -o /dev/null -w '%{http_code}' "$2" 2>/tmp/.hastack-tls-$$) ; rc=$?
  echo "$1 $code $rc $(tail -n 1 /tmp/.hastack-tls-$$)"
  rm -f /tmp/.hastack-tls-$$
  shift 3
done
`;

export function publicTlsProbes(topology: Topology, frontends: readonly Frontend[]): ProbeSpec[] {
  const targets = frontends.filter((f) => f.publicBind?.tls);
  if (topology.tls.public === "off" || targets.length === 0) return [];
  return [
    {
      id: "public-tls",
      title:
        "HTTPS on the public VIP: each TLS listener answers, its certificate verifies against the site CA",
      on: "once",
      weight: "critical",
      timeoutMs: 60_000,
      run: (ctx) => probe(ctx, targets),
    },
  ];
}

async function probe(ctx: ProbeContext, targets: readonly Frontend[]): Promise<ProbeResult> {
  const host = ctx.topology.vips.publicHost;
  const args = targets.flatMap((f) => {
    const pub = f.publicBind as NonNullable<Frontend["publicBind"]>;
    const url = `https://${host}:${pub.port}/`;
    return [f.name, url, isIP(host) ? "-" : `${host}:${pub.port}:${pub.address}`];
  });
  const reasons: string[] = [];
  // From the first controller that answers: any of them is a client of the public VIP.
  for (const name of controllerNames(ctx.topology)) {
    const r = await ctx.exec(name, ["sh", "-c", SCRIPT, "public-tls", SITE_CA_PATH, PUBLIC_PEM, ...args], {
      timeoutMs: 50_000,
      signal: ctx.signal,
    });
    if (r.code !== 0) {
      reasons.push(`${name}: exit code ${r.code}: ${lastLine(r.stderr)}`);
      continue;
    }
    return verdict(r.stdout, name, targets.length);
  }
  return { state: "down", summary: `no controller could ask the public VIP: ${reasons.join("; ")}` };
}

export function verdict(stdout: string, from: string, expected: number, now = new Date()): ProbeResult {
  const lines = stdout.trim().split("\n");
  const certLine = lines.find((l) => l.startsWith("cert "))?.slice(5) ?? "";
  const notAfter = new Date(certLine);
  const bad: string[] = [];
  let answered = 0;
  for (const line of lines.filter((l) => !l.startsWith("cert "))) {
    const [name, code, rc, ...said] = line.split(" ");
    const status = Number(code);
    if (rc === "0" && status >= 200 && status < 500) answered++;
    else bad.push(`${name}: ${rc !== "0" ? `curl exit ${rc}: ${said.join(" ")}` : `HTTP ${code}`}`);
  }
  if (answered + bad.length !== expected)
    bad.push(`${expected - answered - bad.length} listener(s) not asked`);
  if (Number.isNaN(notAfter.getTime()))
    return { state: "down", summary: `cannot read ${PUBLIC_PEM} on ${from}: ${certLine}` };
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  const expiry = `certificate valid ${days} more days`;
  if (bad.length > 0)
    return { state: "down", summary: `${answered}/${expected} over HTTPS from ${from}; ${bad.join("; ")}` };
  if (days < RENEW_DAYS)
    return {
      state: "degraded",
      summary: `${answered} listeners over HTTPS, but the ${expiry}: renew it (site-ca: hastack secrets init, then deploy)`,
    };
  return {
    state: "ok",
    summary: `${answered} listeners over HTTPS from ${from}, verified against the site CA; ${expiry}`,
  };
}
