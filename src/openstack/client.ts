/**
 * @module
 * A small OpenStack REST client over node:http(s): a password login that keeps the token and
 * the catalogue, and requests to a service's endpoint of one interface. TLS is checked against
 * the CA given (the site CA for a lab or a site-ca site), never skipped. For what must run beside
 * a fault from this process (drills), where the `openstack` client on a controller could die
 * with the controller it runs on.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { z } from "zod";
import { HastackError } from "../util/errors.ts";

export interface Credentials {
  authUrl: string;
  username: string;
  project: string;
  password: string;
  /** PEM of the CA the endpoints' certificates are checked against; the system's CAs without it. */
  ca?: string;
  /** @default "public" */
  interface?: "public" | "internal";
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface Session {
  token: string;
  projectId: string;
  /** The endpoint URL of a service type, e.g. "compute", of the session's interface. */
  url(type: string): string;
  /**
   * method + URL with the token; a status of 400 and up is an answer, not an error. `headers`
   * adds to the request's (a microversion, for one).
   */
  call(
    method: string,
    url: string,
    body?: unknown,
    timeoutMs?: number,
    headers?: Record<string, string>,
  ): Promise<Answer>;
}

const TokenBody = z.object({
  token: z.object({
    project: z.object({ id: z.string() }),
    catalog: z.array(
      z.object({
        type: z.string(),
        endpoints: z.array(z.object({ interface: z.string(), url: z.string() })),
      }),
    ),
  }),
});

/** One HTTP(S) request; rejects on a transport failure or the timeout, with what failed. */
export function send(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string; ca?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method,
        headers: {
          accept: "application/json",
          ...(options.body ? { "content-type": "application/json" } : {}),
          ...options.headers,
        },
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: options.timeoutMs ?? 10_000,
        // A new connection each time: a failover shows in every request, not only in a pool's first.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer in ${options.timeoutMs ?? 10_000} ms`)));
    // The message stays short (the drills count errors by it); the URL is in the error's context.
    req.on("error", (cause: Error) =>
      reject(
        new HastackError("E_OPENSTACK_API", cause.message, {
          cause,
          hint: `${method} ${target.origin}${target.pathname}`,
        }),
      ),
    );
    req.end(options.body);
  });
}

export async function login(creds: Credentials, timeoutMs = 30_000): Promise<Session> {
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: creds.username, domain: { name: "Default" }, password: creds.password } },
      },
      scope: { project: { name: creds.project, domain: { name: "Default" } } },
    },
  });
  const url = `${creds.authUrl.replace(/\/$/, "")}/auth/tokens`;
  const answer = await send("POST", url, { body, ...(creds.ca ? { ca: creds.ca } : {}), timeoutMs });
  const token = answer.headers["x-subject-token"];
  if (answer.status !== 201 || typeof token !== "string")
    throw new HastackError(
      "E_OPENSTACK_API",
      `Cannot log in as ${creds.username} at ${url}: HTTP ${answer.status}: ${answer.body.slice(0, 200)}`,
    );
  const parsed = TokenBody.safeParse(JSON.parse(answer.body));
  if (!parsed.success)
    throw new HastackError(
      "E_OPENSTACK_API",
      `Cannot read the token Keystone gave at ${url}: ${parsed.error.message}`,
    );
  const wanted = creds.interface ?? "public";
  const { catalog, project } = parsed.data.token;
  return {
    token,
    projectId: project.id,
    url(type) {
      const found = catalog.find((c) => c.type === type)?.endpoints.find((e) => e.interface === wanted)?.url;
      if (!found)
        throw new HastackError(
          "E_OPENSTACK_API",
          `Cannot find the ${wanted} ${type} endpoint in the catalogue`,
        );
      return found.replace(/\/$/, "");
    },
    call(method, target, payload, callTimeoutMs, extraHeaders) {
      return send(method, target, {
        headers: { ...extraHeaders, "x-auth-token": token },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        ...(creds.ca ? { ca: creds.ca } : {}),
        ...(callTimeoutMs ? { timeoutMs: callTimeoutMs } : {}),
      });
    },
  };
}
