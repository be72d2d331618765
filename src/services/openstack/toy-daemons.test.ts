import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectStatus } from "../../health/engine.ts";
import { generateSecret } from "../../inventory/secrets-file.ts";
import { placed, renderedFile } from "../../testing/fixtures.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import { HastackError } from "../../util/errors.ts";
import { IDENTITY_SCRIPT, IDENTITY_SDK_METHODS } from "./identity-script.ts";
import { type Container, startContainer } from "./test-container.ts";
import { runStep } from "./test-kit.ts";
import { CONF, registry, secrets, step, topology } from "./toy-fixture.ts";

/**
 * The toy service's shared steps and probe, run as the deploy and status engines run them,
 * against real daemons of the lab image: MariaDB (database step, then a login as the toy user),
 * RabbitMQ (amqp-user step, then authenticate_user), curl (the probe against real HTTP servers),
 * and openstacksdk (the identity program, here without a Keystone to reach: its error; against a
 * real Keystone in toy-keystone.test.ts).
 */
const host = "ctl1";
const NOTIFY = `
import oslo_messaging
from oslo_config import cfg
conf = cfg.ConfigOpts()
conf(["--config-file", "${CONF}"], project="toy")
transport = oslo_messaging.get_notification_transport(conf)
notifier = oslo_messaging.Notifier(transport, driver="messaging", topics=["hastack_probe"], publisher_id="toy", retry=3)
notifier.info({}, "toy.ping", {"ok": True})
transport.cleanup()
`;
const withSecrets = (extra: Record<string, string>) => ({ ...secrets, ...extra });
const run = (id: string, transport: Container["transport"], values = secrets) =>
  runStep({ service: "toy", step: step(id), host, topology, services: registry, transport, secrets: values });

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot(), 900_000);

describe("toy database, probe and identity program in a real MariaDB host", () => {
  let box: Container;
  beforeAll(async () => {
    box = await startContainer(
      host,
      `mkdir -p /run/mysqld /srv/up && chown mysql:mysql /run/mysqld && echo ok > /srv/up/healthcheck
       mariadbd --user=mysql --wsrep-on=OFF > /tmp/mariadb.log 2>&1 &
       for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done
       mariadb-admin ping >/dev/null
       # ctl1's API answers; ctl2's answers 503; nothing listens on ctl3's address.
       python3 -m http.server 9555 --bind 10.20.0.11 --directory /srv/up > /dev/null 2>&1 &
       python3 -c 'import http.server as h
class S(h.BaseHTTPRequestHandler):
    def do_GET(self): self.send_response(503); self.end_headers()
h.HTTPServer(("10.20.0.12", 9555), S).serve_forever()' > /dev/null 2>&1 &
       for i in $(seq 1 40); do curl -s -o /dev/null 10.20.0.11:9555/healthcheck && break; sleep 0.25; done`,
      { hostname: host, addresses: ["10.20.0.11", "10.20.0.12", "10.20.0.13"] },
    );
  }, 240_000);
  afterAll(() => box?.stop());

  async function login(password: string): Promise<{ code: number; stdout: string }> {
    return box.transport.exec(
      [
        "sh",
        "-c",
        'read -r MYSQL_PWD; export MYSQL_PWD; exec mariadb -h 127.0.0.1 -u toy -N -B -e "SHOW DATABASES; SHOW GRANTS"',
      ],
      { stdin: `${password}\n` },
    );
  }

  it("creates the databases, the user and its grants; the toy user logs in and sees them", async () => {
    const first = await run("database", box.transport);
    expect(first).toMatchObject({ before: false, applied: true, after: true });
    expect(first.log.join("\n")).toContain("database toy (utf8mb4), database toy_api (utf8mb4)");
    const session = await login(secrets.db_toy ?? "");
    expect(session.code).toBe(0);
    expect(session.stdout.split("\n")).toEqual(expect.arrayContaining(["toy", "toy_api"]));
    expect(session.stdout).toContain("GRANT ALL PRIVILEGES ON `toy`.* TO `toy`@`%`");
    expect(session.stdout).toContain("GRANT ALL PRIVILEGES ON `toy_api`.* TO `toy`@`%`");
    // A second run finds everything in place and changes nothing.
    expect(await run("database", box.transport)).toMatchObject({ before: true, applied: false });
  });

  it("applies a changed password: the old one stops working, the new one works", async () => {
    const rotated = withSecrets({ db_toy: generateSecret("password") });
    expect(await run("database", box.transport, rotated)).toMatchObject({ before: false, after: true });
    expect((await login(secrets.db_toy ?? "")).code).not.toBe(0);
    expect((await login(rotated.db_toy ?? "")).code).toBe(0);
  });

  it("finds a dropped grant and restores it", async () => {
    await box.transport.exec(["mariadb", "-e", "REVOKE ALL PRIVILEGES ON `toy_api`.* FROM 'toy'@'%'"]);
    // Back to the first password too (the previous test changed it).
    const repaired = await run("database", box.transport);
    expect(repaired).toMatchObject({ before: false, after: true });
    expect(repaired.log.join("\n")).toContain("ALL on toy_api.* to 'toy'@'%'");
    expect(repaired.log.join("\n")).not.toContain(secrets.db_toy);
  });

  it("status probes each controller's own API: ok, 503 is down, no answer is down", async () => {
    const report = await collectStatus(topology, {
      services: registry,
      only: ["toy"],
      secrets,
      transport: () => box.transport,
    });
    const byHost = Object.fromEntries(report.checks.map((c) => [c.host, [c.probe, c.state]]));
    expect(byHost).toEqual({
      ctl1: ["toy_api", "ok"],
      ctl2: ["toy_api", "down"],
      ctl3: ["toy_api", "down"],
    });
    expect(report.checks.find((c) => c.host === "ctl2")?.summary).toContain("HTTP 503");
    expect(report.verdict).toBe("degraded");
  });

  it("identity: the program compiles, every SDK call exists in the real openstacksdk; without Keystone it fails naming the host, never a secret", async () => {
    const sdk = await box.transport.exec(
      [
        "python3",
        "-c",
        "import sys, ast; ast.parse(sys.stdin.read()); from openstack.identity.v3._proxy import Proxy; print('missing=' + ','.join(m for m in sys.argv[1:] if not hasattr(Proxy, m)))",
        ...IDENTITY_SDK_METHODS,
      ],
      { stdin: IDENTITY_SCRIPT },
    );
    expect(sdk.stdout.trim()).toBe("missing=");
    // Nothing listens on the Keystone VIP here: the check reaches the SDK's connection attempt.
    const failure = await run("identity", box.transport).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HastackError);
    const message = (failure as HastackError).message;
    expect(message).toMatch(/^Cannot check the toy service in Keystone on ctl1: exit code 1: /);
    expect(message).not.toContain(secrets.keystone_admin);
    expect(message).not.toContain(secrets.svc_toy);
  }, 120_000);
});

describe("toy RabbitMQ user in a real RabbitMQ node", () => {
  let box: Container;
  beforeAll(async () => {
    box = await startContainer(
      host,
      // ctl2 and ctl3 resolve but do not answer: the client must get through on ctl1.
      `printf '127.0.0.1 localhost\\n10.20.0.11 ctl1\\n10.20.0.12 ctl2\\n10.20.0.13 ctl3\\n' > /etc/hosts
       runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq rabbitmq-server > /tmp/rabbit.log 2>&1 &
       for i in $(seq 1 240); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 0.5; done
       rabbitmqctl -q add_vhost /openstack --default-queue-type quorum`,
      {
        hostname: host,
        addresses: ["10.20.0.11"],
        readyTimeoutMs: 240_000,
        files: [{ ...placed(renderedFile(topology, host, CONF, registry), secrets), owner: "root:root" }],
      },
    );
  }, 300_000);
  afterAll(() => box?.stop());

  // rabbitmqctl starts an Erlang VM per call: ~15 calls take minutes on a busy 2-core machine.
  it("creates the user with rights on the vhost, applies a changed password, and is idempotent", async () => {
    expect(await run("amqp-user", box.transport)).toMatchObject({
      before: false,
      applied: true,
      after: true,
    });
    const auth = (password: string) =>
      box.transport.exec(["rabbitmqctl", "authenticate_user", "toy"], { stdin: `${password}\n` });
    expect((await auth(secrets.rabbit_toy ?? "")).code).toBe(0);
    const perms = await box.transport.exec([
      "rabbitmqctl",
      "-q",
      "list_permissions",
      "-p",
      "/openstack",
      "--formatter",
      "json",
    ]);
    expect(JSON.parse(perms.stdout)).toContainEqual({
      user: "toy",
      configure: ".*",
      write: ".*",
      read: ".*",
    });
    expect(await run("amqp-user", box.transport)).toMatchObject({ before: true, applied: false });

    // The rendered toy.conf, read by the real oslo.messaging, reaches the broker as the toy user
    // on the OpenStack vhost, and its queues come out quorum queues.
    const notify = await box.transport.exec(["python3", "-c", NOTIFY], { timeoutMs: 120_000 });
    expect(notify.stderr.split("\n").filter((l) => /Error|Traceback/.test(l))).toEqual([]);
    expect(notify.code).toBe(0);
    const queues = await box.transport.exec([
      "rabbitmqctl",
      "-q",
      "list_queues",
      "-p",
      "/openstack",
      "name",
      "type",
      "messages",
      "--formatter",
      "json",
    ]);
    expect(JSON.parse(queues.stdout)).toContainEqual({
      name: "hastack_probe.info",
      type: "quorum",
      messages: 1,
    });

    const rotated = withSecrets({ rabbit_toy: generateSecret("password") });
    expect(await run("amqp-user", box.transport, rotated)).toMatchObject({ before: false, after: true });
    expect((await auth(secrets.rabbit_toy ?? "")).code).not.toBe(0);
    expect((await auth(rotated.rabbit_toy ?? "")).code).toBe(0);
  }, 600_000);
});
