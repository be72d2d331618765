/**
 * @module
 * Several HTTP requests made by one curl on a host: the requests, credentials and bodies go on
 * stdin as curl's config (`-K -`, a `next` between requests), never in argv, where any user of
 * the host could read them in the process list. Each answer ends with a marker line carrying its
 * status (and one response header when asked), so one run answers every request.
 */
import { randomBytes } from "node:crypto";
import type { ExecOptions, Transport } from "../transport/types.ts";

export interface CurlRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON (content-type set). */
  json?: unknown;
  /** A response header to return (e.g. "x-subject-token"). */
  header?: string;
}

export interface CurlAnswer {
  /** 0 when curl got no answer (connection refused, timeout). */
  status: number;
  body: string;
  header?: string;
}

/** curl's config syntax: a double-quoted value with backslash escapes. */
export function curlQuote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** The config text for the requests (exported for tests: what curl reads on stdin). */
export function curlConfig(requests: readonly CurlRequest[], marker: string, maxTimeS: number): string {
  return requests
    .map((r) => {
      const lines = [
        `url = ${curlQuote(r.url)}`,
        `request = ${curlQuote(r.method)}`,
        `max-time = ${maxTimeS}`,
        ...Object.entries(r.headers ?? {}).map(([k, v]) => `header = ${curlQuote(`${k}: ${v}`)}`),
      ];
      if (r.json !== undefined)
        lines.push(
          `header = ${curlQuote("content-type: application/json")}`,
          `data-binary = ${curlQuote(JSON.stringify(r.json))}`,
        );
      // %{http_code} is 000 when nothing answered; the header is empty when absent.
      const header = r.header ? ` %header{${r.header}}` : "";
      lines.push(`write-out = ${curlQuote(`\n${marker} %{http_code}${header}\n`)}`);
      return lines.join("\n");
    })
    .join("\nnext\n");
}

/** Splits curl's output into one answer per request, by marker. */
export function parseCurlOutput(stdout: string, marker: string, count: number): CurlAnswer[] {
  const parts = stdout.split(`\n${marker} `);
  const out: CurlAnswer[] = [];
  let body = parts[0] ?? "";
  for (let i = 1; i < parts.length && out.length < count; i++) {
    const part = parts[i] ?? "";
    const nl = part.indexOf("\n");
    const [code, ...header] = (nl < 0 ? part : part.slice(0, nl)).split(" ");
    out.push({ status: Number(code) || 0, body, ...(header.length > 0 ? { header: header.join(" ") } : {}) });
    body = nl < 0 ? "" : part.slice(nl + 1);
  }
  while (out.length < count) out.push({ status: 0, body: "" });
  return out;
}

/** Runs the requests, in order, in one curl on the host; an answer of status 0 is no answer. */
export async function curlBatch(
  t: Transport,
  requests: readonly CurlRequest[],
  opts: ExecOptions & { maxTimeS?: number } = {},
): Promise<CurlAnswer[]> {
  if (requests.length === 0) return [];
  const { maxTimeS = 20, ...exec } = opts;
  const marker = `@@hastack-${randomBytes(6).toString("hex")}@@`;
  const r = await t.exec(["curl", "-sS", "-K", "-"], {
    timeoutMs: (maxTimeS * requests.length + 5) * 1000,
    ...exec,
    stdin: `${curlConfig(requests, marker, maxTimeS)}\n`,
  });
  // curl's exit code is that of its last failed transfer; each answer's status says which.
  return parseCurlOutput(r.stdout, marker, requests.length);
}
