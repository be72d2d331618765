import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecret } from "../../inventory/secrets-file.ts";
import { toolRoot } from "../../testing/real-tools.ts";
import { type Container, startContainer } from "./test-container.ts";
import { runStep } from "./test-kit.ts";
import { registry, secrets, step, topology } from "./toy-fixture.ts";

/**
 * The toy's identity step against a real Keystone 2025.1 of the lab image. Not Keystone as hastack
 * will deploy it (that is Keystone's own issue): a one-node Keystone on a local MariaDB, set up by
 * hand in a container that holds the internal VIP, so the step talks to the URL it would use on a
 * site. The `openstack` CLI then checks, apart from the step's own check, what it created.
 */
const host = "ctl1";
const dbPassword = generateSecret("password");
const run = (values: Readonly<Record<string, string>> = secrets) =>
  runStep({
    service: "toy",
    step: step("identity"),
    host,
    topology,
    services: registry,
    transport: box.transport,
    secrets: values,
  });
let box: Container;

beforeAll(() => toolRoot(), 900_000);

describe("the toy's Keystone registration in a real Keystone", () => {
  beforeAll(async () => {
    box = await startContainer(
      host,
      `mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
       mariadbd --user=mysql --wsrep-on=OFF > /tmp/mariadb.log 2>&1 &
       for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done
       mariadb < /tmp/keystone.sql
       runuser -u keystone -- keystone-manage db_sync
       keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone
       keystone-manage credential_setup --keystone-user keystone --keystone-group keystone
       url=http://10.20.0.10:5000/v3
       OS_BOOTSTRAP_PASSWORD="$(cat /tmp/admin)" keystone-manage bootstrap --bootstrap-admin-url $url \\
         --bootstrap-internal-url $url --bootstrap-public-url $url --bootstrap-region-id RegionOne
       rm /tmp/admin
       # Not the package's ini (its AppArmor profile stops uwsgi in a container); its two settings
       # that matter here: a large header buffer, and Connection: close (uwsgi's plain HTTP socket
       # does not keep connections alive, and a client reusing one gets a reset).
       runuser -u keystone -- uwsgi_python3 --http-socket 10.20.0.10:5000 --wsgi-file /usr/bin/keystone-wsgi-public \\
         --processes 1 --threads 4 --master --buffer-size 65535 --add-header 'Connection: close' > /tmp/uwsgi.log 2>&1 &
       for i in $(seq 1 240); do curl -sf -o /dev/null $url && break; sleep 0.5; done
       curl -sf -o /dev/null $url`,
      {
        hostname: host,
        addresses: ["10.20.0.10", "10.20.0.11"],
        files: [
          { path: "/tmp/admin", content: secrets.keystone_admin ?? "", mode: 0o600 },
          {
            path: "/tmp/keystone.sql",
            content: `CREATE DATABASE keystone; CREATE USER keystone@'127.0.0.1' IDENTIFIED BY '${dbPassword}'; GRANT ALL ON keystone.* TO keystone@'127.0.0.1';\n`,
            mode: 0o600,
          },
          {
            path: "/etc/keystone/keystone.conf",
            content: `[database]\nconnection = mysql+pymysql://keystone:${dbPassword}@127.0.0.1/keystone\n[token]\nprovider = fernet\n`,
            mode: 0o640,
            owner: "root:keystone",
          },
        ],
        readyTimeoutMs: 600_000,
      },
    );
  }, 660_000);
  afterAll(() => box?.stop());

  /** `openstack` as admin (or as `user`), the password read from stdin into the environment. */
  async function openstack(
    args: string,
    password = secrets.keystone_admin ?? "",
    user = "admin",
  ): Promise<unknown> {
    const project = user === "admin" ? "admin" : "service";
    const r = await box.transport.exec(
      [
        "sh",
        "-c",
        `read -r OS_PASSWORD; export OS_PASSWORD; exec openstack ${args} -f json --os-auth-url http://10.20.0.10:5000/v3 --os-username ${user} --os-project-name ${project} --os-user-domain-name Default --os-project-domain-name Default --os-identity-api-version 3`,
      ],
      { stdin: `${password}\n`, timeoutMs: 120_000 },
    );
    if (r.code !== 0)
      throw new Error(`openstack ${args}: exit code ${r.code}: ${r.stderr.trim().slice(-400)}`);
    return JSON.parse(r.stdout);
  }

  // Each run of the program or the CLI imports openstacksdk: seconds each, minutes on a busy machine.
  it("creates the user, roles, service and endpoints; a second run changes nothing", async () => {
    const first = await run();
    expect(first).toMatchObject({ before: false, applied: true, after: true });
    expect(first.log.join("\n")).toMatch(/user toy.*service toy.*public endpoint/s);
    expect(await run()).toMatchObject({ before: true, applied: false });

    const endpoints = (await openstack("endpoint list --service toy")) as {
      Interface: string;
      URL: string;
      Region: string;
    }[];
    expect(endpoints.map((e) => [e.Interface, e.URL, e.Region]).sort()).toEqual([
      ["admin", "http://10.20.0.10:9555/v1", "RegionOne"],
      ["internal", "http://10.20.0.10:9555/v1", "RegionOne"],
      ["public", `https://${topology.vips.publicHost}:9555/v1`, "RegionOne"],
    ]);
    expect(await openstack("service show toy")).toMatchObject({ name: "toy", type: "toy" });
    const roles = (await openstack("role assignment list --user toy --project service --names")) as {
      Role: string;
    }[];
    expect(roles.map((r) => r.Role).sort()).toEqual(["admin", "service"]);
    // The service user logs in with its own password (svc_toy) to the service project.
    expect(await openstack("token issue", secrets.svc_toy, "toy")).toHaveProperty("id");
  }, 600_000);

  // The check asks Keystone's REST API with curl; the registration program fixes what it finds.
  it("finds a role taken away and an endpoint moved by hand, and puts both back", async () => {
    const internal = (
      (await openstack("endpoint list --service toy --interface internal")) as { ID: string }[]
    )[0]?.ID;
    expect(internal).toBeDefined();
    await box.transport.exec(
      [
        "sh",
        "-c",
        `read -r OS_PASSWORD; export OS_PASSWORD; a="--os-auth-url http://10.20.0.10:5000/v3 --os-username admin --os-project-name admin --os-user-domain-name Default --os-project-domain-name Default --os-identity-api-version 3"
         openstack role remove --user toy --project service service $a &&
         openstack endpoint set --url http://10.20.0.99:9555/v1 ${internal} $a`,
      ],
      { stdin: `${secrets.keystone_admin}\n`, timeoutMs: 120_000 },
    );
    const fixed = await run();
    expect(fixed).toMatchObject({ before: false, applied: true, after: true });
    expect(fixed.log.join("\n")).toContain(
      "creating: role service of toy on service, internal endpoint http://10.20.0.10:9555/v1",
    );
    const roles = (await openstack("role assignment list --user toy --project service --names")) as {
      Role: string;
    }[];
    expect(roles.map((r) => r.Role).sort()).toEqual(["admin", "service"]);
  }, 600_000);

  it("says which login Keystone refused, naming the host, and never the password", async () => {
    const wrong = { ...secrets, keystone_admin: "not-the-admin-password" };
    const r = await run(wrong).catch((e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    expect(String(r)).toMatch(
      /Cannot read Keystone's catalogue and roles on ctl1: the admin's login: HTTP 401/,
    );
    expect(String(r)).not.toContain("not-the-admin-password");
  }, 120_000);
});
