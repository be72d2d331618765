import { describe, expect, it } from "vitest";
import { makeStepContext } from "../../deploy/context.ts";
import { type SharedRead, sharedReads } from "../../deploy/shared-reads.ts";
import { exampleTopology } from "../../testing/fixtures.ts";
import { services } from "../registry.ts";
import type { StepContext } from "../types.ts";
import { amqpStep } from "./amqp-step.ts";
import { secretNames } from "./oslo.ts";
import { recordingTransport } from "./test-kit.ts";

const topology = exampleTopology("lab");
const VHOST = "/openstack";
const users = ["glance", "placement", "nova"];
const secrets = Object.fromEntries(users.map((u) => [secretNames(u).amqp, `pw-${u}`]));

/** A RabbitMQ that knows `known` users (any password is right) and their `rights` on the OpenStack vhost. */
function rabbit(known: string[], rights: Record<string, string>) {
  return recordingTransport("ctl1", (argv) => {
    if (argv === "rabbitmqctl -q list_users --formatter json")
      return { stdout: JSON.stringify(known.map((user) => ({ user, tags: [] }))) };
    if (argv === `rabbitmqctl -q list_permissions -p ${VHOST} --formatter json`)
      return {
        stdout: JSON.stringify(
          Object.entries(rights).map(([user, r]) => ({ user, configure: r, write: r, read: r })),
        ),
      };
    if (argv.startsWith("rabbitmqctl authenticate_user ")) return {};
    return undefined;
  });
}

function context(t: ReturnType<typeof rabbit>, user: string, shared?: SharedRead): StepContext {
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
    ...(shared ? { shared } : {}),
  });
}

describe("the amqp-user step", () => {
  it("lists users and the vhost's permissions once for every service's check of a run", async () => {
    const t = rabbit(users, { glance: ".*", placement: ".*", nova: ".*" });
    const reads = sharedReads();

    const answers = await Promise.all(users.map((u) => amqpStep(u).check?.(context(t, u, reads.get))));

    expect(answers).toEqual([true, true, true]);
    const asked = t.seen.map((s) => s.argv);
    expect(asked.filter((a) => a.includes("list_users"))).toHaveLength(1);
    expect(asked.filter((a) => a.includes("list_permissions"))).toHaveLength(1);
    // Passwords are still each user's own question, on stdin.
    expect(t.seen.filter((s) => s.argv.includes("authenticate_user")).map((s) => s.stdin)).toEqual(
      users.map((u) => `pw-${u}\n`),
    );
  });

  it("still finds a missing user, a wrong password and missing rights", async () => {
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.includes("list_users")) return { stdout: '[{"user":"glance"},{"user":"placement"}]' };
      if (argv.includes("list_permissions"))
        return { stdout: '[{"user":"glance","configure":".*","write":".*","read":""}]' };
      // placement's password is wrong.
      if (argv === "rabbitmqctl authenticate_user placement") return { code: 1 };
      if (argv.startsWith("rabbitmqctl authenticate_user")) return {};
      return undefined;
    });
    const reads = sharedReads();
    const logged: string[] = [];
    const check = async (u: string) => {
      const ctx = context(t as ReturnType<typeof rabbit>, u, reads.get);
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

  it("asks again after an apply: the check that follows its own apply sees the new user", async () => {
    const known = ["openstack"];
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.includes("list_users")) return { stdout: JSON.stringify(known.map((user) => ({ user }))) };
      if (argv.includes("list_permissions"))
        return {
          stdout: JSON.stringify(known.map((user) => ({ user, configure: ".*", write: ".*", read: ".*" }))),
        };
      if (argv === "rabbitmqctl add_user glance") {
        known.push("glance");
        return {};
      }
      if (argv.startsWith("rabbitmqctl")) return {};
      return undefined;
    });
    const reads = sharedReads();
    const step = amqpStep("glance");
    const ctx = context(t as ReturnType<typeof rabbit>, "glance", reads.get);

    expect(await step.check?.(ctx)).toBe(false);
    await reads.applying(async () => step.apply?.(ctx));

    expect(await step.check?.(ctx)).toBe(true);
  });
});
