import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeStepContext } from "../../deploy/context.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { services } from "../registry.ts";
import type { StepContext } from "../types.ts";
import { amqpStep } from "./amqp-step.ts";
import { secretNames } from "./oslo.ts";
import { recordingTransport } from "./test-kit.ts";

// RabbitMQ's management API is played here by a function behind the recording transport (a fake
// at the curl boundary); toy-daemons.test.ts runs the same step against a real RabbitMQ node.
const topology = exampleTopology("lab");
const users = ["glance", "placement", "nova"];
const secrets = {
  ...Object.fromEntries(users.map((u) => [secretNames(u).amqp, `pw-${u}`])),
  rabbitmq_admin: "admin-secret",
};

/** RabbitMQ's stored form: base64(salt + sha256(salt + password)). */
function hash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash("sha256").update(salt).update(password).digest()]).toString(
    "base64",
  );
}

interface Api {
  users: Map<string, string>;
  rights: Map<string, string>;
  status?: number;
}

/** The management API as curl sees it: config (credentials, method, body) on stdin, URL last. */
function api(state: Api) {
  return recordingTransport("ctl1", (argv, stdin) => {
    if (!argv.startsWith("curl ")) return undefined;
    const path = decodeURIComponent(new URL(argv.split(" ").at(-1) ?? "").pathname);
    const method = /request = "(\w+)"/.exec(stdin)?.[1] ?? "GET";
    const body = /data-binary = "(.*)"/.exec(stdin)?.[1]?.replace(/\\"/g, '"');
    const answer = (code: number, json?: unknown) => ({
      stdout: `${json === undefined ? "" : JSON.stringify(json)}\n${code}`,
    });
    if (state.status) return answer(state.status, { error: "not_authorised", reason: "Login failed" });
    const user = /^\/api\/users\/(.+)$/.exec(path)?.[1];
    const perm = /^\/api\/permissions\/\/openstack\/(.+)$/.exec(path)?.[1];
    if (user && method === "GET") {
      const pw = state.users.get(user);
      return pw === undefined
        ? answer(404, { error: "Object Not Found" })
        : answer(200, {
            name: user,
            password_hash: pw,
            hashing_algorithm: "rabbit_password_hashing_sha256",
            tags: [],
          });
    }
    if (user && method === "PUT") {
      state.users.set(user, hash(JSON.parse(body ?? "{}").password));
      return answer(204);
    }
    if (perm && method === "GET") {
      const r = state.rights.get(perm);
      return r === undefined ? answer(404, {}) : answer(200, { configure: r, write: r, read: r });
    }
    if (perm && method === "PUT") {
      state.rights.set(perm, JSON.parse(body ?? "{}").configure);
      return answer(204);
    }
    return answer(404, {});
  });
}

function context(t: ReturnType<typeof api>, user: string): StepContext {
  return makeStepContext({
    step: `${user}.amqp-user`,
    host: "ctl1",
    topology,
    services,
    files: new Map(),
    transports: new Map([["ctl1", t]]),
    dryRun: false,
    signal: new AbortController().signal,
    timeoutMs: 60_000,
    log: { info: () => {}, warn: () => {}, debug: () => {} },
    secrets,
    redact: (text) => text,
  });
}

describe("the amqp-user step", () => {
  it("finds a missing user, a wrong password and missing rights", async () => {
    const state: Api = {
      users: new Map([
        ["glance", hash("pw-glance")],
        ["placement", hash("an old password")],
      ]),
      rights: new Map([["glance", ""]]),
    };
    const t = api(state);
    const logged: string[] = [];
    const check = async (u: string) => {
      const ctx = context(t, u);
      ctx.log.info = (m) => logged.push(`${u}: ${m}`);
      return amqpStep(u).check?.(ctx);
    };

    expect(await check("glance")).toBe(false);
    expect(await check("placement")).toBe(false);
    expect(await check("nova")).toBe(false);

    expect(logged).toEqual([
      "glance: setting: permissions",
      "placement: setting: password, permissions",
      "nova: setting: user, permissions",
    ]);
  });

  it("sets user and rights, after which its check passes; no password ever in argv", async () => {
    const state: Api = { users: new Map(), rights: new Map() };
    const t = api(state);
    const step = amqpStep("nova");
    const ctx = context(t, "nova");

    expect(await step.check?.(ctx)).toBe(false);
    await step.apply?.(ctx);
    expect(await step.check?.(ctx)).toBe(true);

    expect(state.rights.get("nova")).toBe(".*");
    for (const seen of t.seen) {
      expect(seen.argv).not.toContain("pw-nova");
      expect(seen.argv).not.toContain("admin-secret");
      expect(seen.stdin).toContain('user = "hastack:admin-secret"');
    }
    expect(t.seen.some((s) => s.stdin.includes('data-binary = "{\\"password\\":\\"pw-nova\\"'))).toBe(true);
  });

  it("says which host and question failed when the API refuses hastack's administrator", async () => {
    const t = api({ users: new Map(), rights: new Map(), status: 401 });
    const failure = await amqpStep("glance")
      .check?.(context(t, "glance"))
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HastackError);
    expect((failure as HastackError).code).toBe("E_OPENSTACK_AMQP");
    expect((failure as HastackError).message).toMatch(/^Cannot read .* on ctl1: HTTP 401: Login failed$/);
    expect((failure as HastackError).message).not.toContain("admin-secret");
  });
});
