/**
 * @module
 * A password login to Keystone from a host, the way any client starts: POST /v3/auth/tokens.
 * The request body (with the password) goes to curl on stdin, never in argv; the answer is the
 * status, whether a token came back, and the catalogue the token carries (service name and type,
 * and its endpoints' interface, region and URL), read through zod.
 */
import { z } from "zod";
import type { ExecOptions, ExecResult } from "../../transport/types.ts";

export interface Login {
  /** Keystone's URL with its version, e.g. http://10.20.0.10:5000/v3 */
  authUrl: string;
  user: string;
  password: string;
  project: string;
}

const Catalog = z.array(
  z.object({
    name: z.string(),
    type: z.string(),
    endpoints: z.array(
      z.object({ interface: z.string(), region_id: z.string().nullable(), url: z.string() }),
    ),
  }),
);
const TokenBody = z.object({ token: z.object({ catalog: Catalog.default([]), expires_at: z.string() }) });

export type CatalogEntry = z.infer<typeof Catalog>[number];

export type LoginResult =
  | { ok: true; token: string; catalog: CatalogEntry[]; expiresAt: string }
  | { ok: false; reason: string };

const MARK = "\n--hastack-status--";

export function loginCommand(authUrl: string): string[] {
  return [
    "curl",
    "-sS",
    "--max-time",
    "10",
    // Headers first on stdout (-D - would need a file; stderr may be a socket over SSH).
    "-i",
    "-H",
    "Content-Type: application/json",
    "-H",
    "Expect:",
    "--data-binary",
    "@-",
    "-w",
    `${MARK}%{http_code}`,
    `${authUrl.replace(/\/$/, "")}/auth/tokens`,
  ];
}

export function loginBody(login: Login): string {
  const domain = { name: "Default" };
  return JSON.stringify({
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: login.user, domain, password: login.password } },
      },
      scope: { project: { name: login.project, domain } },
    },
  });
}

/** The answer of loginCommand: headers, a blank line, the body, then the status after a mark. */
export function readLogin(r: Pick<ExecResult, "code" | "stdout" | "stderr">): LoginResult {
  const at = r.stdout.lastIndexOf(MARK);
  const status = at === -1 ? "" : r.stdout.slice(at + MARK.length).trim();
  if (r.code !== 0)
    return { ok: false, reason: `curl exit code ${r.code}: ${r.stderr.trim().split("\n").at(-1) ?? ""}` };
  if (status !== "201") return { ok: false, reason: `HTTP ${status || "?"}` };
  const response = r.stdout.slice(0, at);
  const split = response.search(/\r?\n\r?\n/);
  const headers = split === -1 ? response : response.slice(0, split);
  const token = /^x-subject-token:\s*(\S+)/im.exec(headers)?.[1];
  let body: unknown;
  try {
    body = JSON.parse(split === -1 ? "" : response.slice(split).trim());
  } catch {
    return { ok: false, reason: "HTTP 201 without a JSON body" };
  }
  const parsed = TokenBody.safeParse(body);
  if (!token || !parsed.success) return { ok: false, reason: "HTTP 201 without a token" };
  return { ok: true, token, catalog: parsed.data.token.catalog, expiresAt: parsed.data.token.expires_at };
}

/** curl's exit code when --max-time ran out. */
const CURL_TIMEOUT = 28;

/**
 * Runs the login with `exec` (a step's transport, a probe's host). A login that timed out is
 * asked once more: each costs Keystone a bcrypt hash, and on a busy controller a burst of them
 * queued past curl's 10 s (CI saw 9.6 s per token); a second timeout is the answer.
 */
export async function login(
  exec: (command: string[], opts: ExecOptions) => Promise<ExecResult>,
  creds: Login,
): Promise<LoginResult & { attempts: 1 | 2 }> {
  const ask = () => exec(loginCommand(creds.authUrl), { stdin: loginBody(creds), timeoutMs: 20_000 });
  const first = await ask();
  if (first.code !== CURL_TIMEOUT) return { ...readLogin(first), attempts: 1 };
  return { ...readLogin(await ask()), attempts: 2 };
}

/**
 * " (second attempt)" after a login that was asked twice, "" otherwise: the retry hides a
 * Keystone slow enough to time out once, and status should show it before it times out twice.
 */
export function retryNote(r: { attempts: number }): string {
  return r.attempts > 1 ? " (second attempt)" : "";
}

/** Names of `wanted` services missing from the catalogue, or lacking a public, internal or admin endpoint in `region`. */
export function catalogGaps(
  catalog: readonly CatalogEntry[],
  wanted: readonly string[],
  region: string,
): string[] {
  return wanted.flatMap((name) => {
    const entry = catalog.find((c) => c.name === name);
    if (!entry) return [`${name} (not in the catalogue)`];
    const missing = ["public", "internal", "admin"].filter(
      (i) => !entry.endpoints.some((e) => e.interface === i && e.region_id === region),
    );
    return missing.length === 0 ? [] : [`${name} (no ${missing.join("/")} endpoint in ${region})`];
  });
}

/**
 * GET /v3/auth/tokens: `token` validates itself (any token may). Tokens are bearer credentials:
 * the headers go to curl on stdin (-H @-). 200 means this Keystone decrypts and accepts it.
 */
export async function validateToken(
  exec: (command: string[], opts: ExecOptions) => Promise<ExecResult>,
  authUrl: string,
  token: string,
): Promise<number> {
  const r = await exec(
    [
      "curl",
      "-sS",
      "--max-time",
      "10",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      "@-",
      `${authUrl.replace(/\/$/, "")}/auth/tokens`,
    ],
    { stdin: `X-Auth-Token: ${token}\nX-Subject-Token: ${token}\n`, timeoutMs: 20_000 },
  );
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}
