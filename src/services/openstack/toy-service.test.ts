import { beforeAll, describe, expect, it } from "vitest";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { placed, renderedFile, siteTlsSecrets } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import { PUBLIC_PEM } from "../haproxy/config.ts";
import { renderTopology } from "../render.ts";
import { identityPlan } from "./identity-step.ts";
import { parseIni } from "./test-kit.ts";
import { CONF, controllers, HAPROXY, registry, secrets, topology, toy, toySpec } from "./toy-fixture.ts";

/**
 * Issue 7's "done when": a toy service, one folder's worth of data (toy-fixture.ts), added to the
 * real registry with no other file changed, gets its database and grants, its Keystone service
 * and endpoints, an HAProxy frontend with health checks, its oslo sections, and a status probe.
 * Here: what the engines render and plan, and the real haproxy and oslo libraries reading it.
 * The real MariaDB, RabbitMQ and probe runs are in toy-daemons.test.ts, Keystone in toy-keystone.test.ts.
 */
describe("a toy OpenStack service added to the registry as data", () => {
  it("renders its frontend, oslo sections, uwsgi bind, secrets, shared steps and probes", () => {
    expect(controllers.map((h) => h.ip)).toEqual(["10.20.0.11", "10.20.0.12", "10.20.0.13"]);
    expect(topology.endpoints.toy).toMatchObject({ internal: "http://10.20.0.10:9555/v1", port: 9555 });
    expect(toy.secrets?.map((s) => s.name)).toEqual(["db_toy", "svc_toy", "rabbit_toy"]);
    const cfg = renderedFile(topology, "ctl1", HAPROXY, registry).text;
    const section = cfg.split("\n\n").find((s) => s.startsWith("listen toy_api")) ?? "";
    expect(section).toContain("bind 10.20.0.10:9555");
    // The public VIP over TLS (examples/lab.yaml), HAProxy telling the API which scheme came in.
    expect(section).toContain("bind 10.20.0.50:9555 ssl crt /etc/haproxy/certs/public.pem");
    expect(section).toContain("http-request set-header X-Forwarded-Proto https if { ssl_fc }");
    expect(topology.endpoints.toy?.public).toBe("https://10.20.0.50:9555/v1");
    expect(section).toContain("option httpchk");
    expect(section).toContain("http-check send meth GET uri /healthcheck");
    for (const h of controllers)
      expect(section).toMatch(new RegExp(`server ${h.name} ${h.ip}:9555 check inter`));
    // Keystone is implemented: its own listener is there too.
    expect(cfg).toContain("listen keystone_api");

    const ini = parseIni(renderedFile(topology, "ctl1", CONF, registry).text);
    expect(ini.database?.connection).toBe(
      `mysql+pymysql://toy:${ph("db_toy")}@10.20.0.10:3306/toy?charset=utf8mb4`,
    );
    expect(ini.database?.max_retries).toBe("-1");
    // Below HAProxy's 5400 s on the Galera frontend, or pooled connections die idle.
    expect(Number(ini.database?.connection_recycle_time)).toBeLessThan(5400);
    const brokers = controllers.map((h) => `toy:${ph("rabbit_toy")}@${h.name}:5672`).join(",");
    expect(ini.DEFAULT?.transport_url).toBe(`rabbit://${brokers}/%2Fopenstack`);
    expect(ini.DEFAULT?.my_ip).toBe("10.20.0.11");
    expect(ini.oslo_messaging_rabbit).toMatchObject({
      rabbit_quorum_queue: "true",
      rabbit_transient_quorum_queue: "true",
      rabbit_stream_fanout: "true",
    });
    const memcached = "10.20.0.11:11211,10.20.0.12:11211,10.20.0.13:11211";
    expect(ini.keystone_authtoken).toMatchObject({
      www_authenticate_uri: "https://10.20.0.50:5000",
      auth_url: "http://10.20.0.10:5000",
      memcached_servers: memcached,
      memcache_security_strategy: "ENCRYPT",
      memcache_secret_key: ph("memcache_secret_key"),
      username: "toy",
      password: ph("svc_toy"),
      service_token_roles_required: "true",
    });
    expect(ini.cache).toMatchObject({
      enabled: "true",
      backend: "oslo_cache.memcache_pool",
      memcache_servers: memcached,
    });
    expect(ini.oslo_concurrency?.lock_path).toBe("/var/lib/toy/tmp");
    expect(ini.coordination?.backend_url).toBe("etcd3+http://10.20.0.11:2379");
    const files = renderTopology(topology, registry, ["ctl1"]).files.get("ctl1") ?? [];
    expect(files.find((f) => f.path === "/etc/default/toy-api")?.text).toContain(
      'DAEMON_ARGS="--http-socket 10.20.0.11:9555 --ini /etc/toy/uwsgi.ini --processes 1 --threads 2"',
    );
    const own = files.filter((f) => f.service === "toy");
    expect(own.map((f) => f.path)).toEqual([CONF, "/etc/default/toy-api"]);
    expect(own.map((f) => f.text).join("\n")).not.toMatch(/0\.0\.0\.0|guest/);

    expect(toy.steps?.(topology, registry).map((s) => [s.id, s.on, s.after])).toEqual([
      ["database", "bootstrap", ["galera"]],
      ["amqp-user", "bootstrap", ["rabbitmq"]],
      ["identity", "bootstrap", ["keystone"]],
    ]);
    expect(toy.health?.(topology).map((p) => [p.id, p.weight, p.hosts])).toEqual([
      ["toy_api", "redundant", ["ctl1", "ctl2", "ctl3"]],
    ]);
  });

  it("plans its Keystone service, user, roles and endpoints on the VIP URLs", () => {
    // What the identity step would create is data; toy-keystone.test.ts runs the step against a
    // real Keystone (src/services/keystone/keystone-daemons.test.ts deploys one with hastack's steps).
    const identity = toySpec.identity;
    if (!identity) throw new Error("toy has no identity");
    expect(identityPlan(topology, "toy", identity)).toEqual({
      authUrl: "http://10.20.0.10:5000/v3",
      region: "RegionOne",
      domain: "Default",
      project: "service",
      user: "toy",
      roles: ["admin", "service"],
      service: { name: "toy", type: "toy", description: "Toy service" },
      endpoints: [
        { interface: "public", url: `https://${topology.vips.publicHost}:9555/v1` },
        { interface: "internal", url: "http://10.20.0.10:9555/v1" },
        { interface: "admin", url: "http://10.20.0.10:9555/v1" },
      ],
    });
  });
});

describe("the toy service against the real daemons of the lab image", () => {
  // The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
  beforeAll(() => toolRoot(), 900_000);

  it("haproxy.cfg with the toy frontend passes haproxy -c; a broken check line does not", async () => {
    // examples/lab.yaml has TLS on the public VIP: the certificate the config names must be there.
    const all = { ...secrets, ...(await siteTlsSecrets(topology)) };
    const file = placed(renderedFile(topology, "ctl1", HAPROXY, registry), all);
    const pem = placed(renderedFile(topology, "ctl1", PUBLIC_PEM, registry), all);
    const r = await runInImage(
      `haproxy -c -f ${HAPROXY} >/dev/null; echo "good=$?"
       sed -i 's|http-check send meth GET uri /healthcheck|& nosuchkeyword|' ${HAPROXY}
       haproxy -c -f ${HAPROXY} >/dev/null 2>&1; echo "bad=$?"`,
      { files: [{ ...file, owner: "root:root" }, pem] },
    );
    expect(r.stdout).toContain("good=0");
    expect(r.stdout).toMatch(/bad=[1-9]/);
  });

  it("toy.conf is read by the real oslo libraries: brokers, quorum queues, database URL, cache", async () => {
    const file = placed(renderedFile(topology, "ctl1", CONF, registry), secrets);
    const read = `
import json
from oslo_config import cfg
import oslo_messaging
from oslo_messaging._drivers import impl_rabbit
from oslo_db import options as db_options
from oslo_cache import core as cache
from keystonemiddleware.auth_token import _opts as ks
from sqlalchemy.engine import make_url
conf = cfg.ConfigOpts()
conf.register_opts(impl_rabbit.rabbit_opts, group="oslo_messaging_rabbit")
db_options.set_defaults(conf)
cache.configure(conf)
conf.register_opts(ks._OPTS, group="keystone_authtoken")
conf(["--config-file", "${CONF}"], project="toy")
url = oslo_messaging.TransportURL.parse(conf)
db = make_url(conf.database.connection)
r = conf.oslo_messaging_rabbit
print(json.dumps({"brokers": ["%s@%s:%s" % (h.username, h.hostname, h.port) for h in url.hosts],
  "vhost": url.virtual_host, "quorum": [r.rabbit_quorum_queue, r.rabbit_transient_quorum_queue, r.rabbit_stream_fanout],
  "prefetch": r.rabbit_qos_prefetch_count, "db": [db.drivername, db.username, db.host, db.database],
  "retries": conf.database.max_retries, "cache": [conf.cache.enabled, conf.cache.backend, conf.cache.memcache_servers],
  "memcached": conf.keystone_authtoken.memcached_servers}))`;
    const namespaces = [
      "oslo.db",
      "oslo.messaging",
      "oslo.concurrency",
      "oslo.cache",
      "keystonemiddleware.auth_token",
      "cinder",
    ];
    const validate = `oslo-config-validator --input-file ${CONF} ${namespaces.map((n) => `--namespace ${n}`).join(" ")}`;
    const r = await runInImage(
      `cat > /tmp/read.py <<'EOF'\n${read}\nEOF
       python3 /tmp/read.py; echo "read=$?"
       ${validate} > /tmp/v.log 2>&1; echo "valid=$?"; grep -E 'ERROR' /tmp/v.log | head -3
       printf '[oslo_messaging_rabbit]\\nrabbit_quorum_queues = true\\n' >> ${CONF}
       ${validate} > /tmp/v2.log 2>&1; echo "invalid=$?"; grep -E 'ERROR' /tmp/v2.log | head -3`,
      { files: [{ ...file, owner: "root:root" }], timeoutMs: 180_000 },
    );
    expect(r.stdout).toContain("read=0");
    const facts = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("{")) ?? "{}");
    expect(facts.brokers).toEqual(["toy@ctl1:5672", "toy@ctl2:5672", "toy@ctl3:5672"]);
    expect(facts.vhost).toBe("/openstack");
    expect(facts.quorum).toEqual([true, true, true]);
    expect(facts.prefetch).toBeGreaterThan(0);
    expect(facts.db).toEqual(["mysql+pymysql", "toy", "10.20.0.10", "toy"]);
    expect(facts.retries).toBe(-1);
    expect(facts.cache).toEqual([
      true,
      "oslo_cache.memcache_pool",
      ["10.20.0.11:11211", "10.20.0.12:11211", "10.20.0.13:11211"],
    ]);
    expect(facts.memcached).toHaveLength(3);
    // Every option name is one the libraries define; a misspelt one (the control) is refused.
    expect(r.stdout).toContain("valid=0");
    expect(r.stdout).toMatch(/invalid=[1-9]/);
    expect(r.stdout).toContain("oslo_messaging_rabbit/rabbit_quorum_queues is not part of the sample config");
  }, 240_000);
});
