import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ExecOptions, ExecResult, Transport } from "../transport/types.ts";
import { parseEndpointStatus, parseJsonExact, parseMemberList } from "./etcd.ts";
import { parseShowStat, setServerState, showInfo } from "./haproxy-runtime.ts";
import {
  clusterStatus,
  listPermissions,
  listQueues,
  listUserPermissions,
  listUsers,
  listVhosts,
} from "./rabbitmq.ts";
import { parseRows, sql } from "./sql.ts";
import { parseShow } from "./systemd.ts";

/** Output of the real tools, captured from the Debian 13 lab image by fixtures/capture.ts. */
function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}

/**
 * A host that answers each command with a captured output: the boundary here is the tool's
 * stdout, which the fixtures hold byte for byte; everything after it is the real parser.
 */
function replaying(answers: Record<string, string>): Transport & { asked: string[] } {
  const asked: string[] = [];
  const exec = async (command: string[] | string, _opts?: ExecOptions): Promise<ExecResult> => {
    const line = typeof command === "string" ? command : command.join(" ");
    asked.push(line);
    const key = Object.keys(answers).find((k) => line.includes(k));
    return key === undefined
      ? { code: 1, stdout: "", stderr: `no fixture for ${line}`, durationMs: 1 }
      : { code: 0, stdout: answers[key] ?? "", stderr: "", durationMs: 1 };
  };
  return { name: "ctl1", asked, exec } as unknown as Transport & { asked: string[] };
}

const host = replaying({});

describe("HAProxy show stat", () => {
  it("reads frontends, backends and servers with their state from real HAProxy output", () => {
    const rows = parseShowStat(host, fixture("haproxy-show-stat.csv"));
    const server = (proxy: string, name: string) => rows.find((r) => r.proxy === proxy && r.server === name);
    expect(server("galera", "FRONTEND")).toMatchObject({ kind: "frontend", status: "OPEN" });
    expect(server("galera_back", "BACKEND")).toMatchObject({ kind: "backend", status: "UP" });
    expect(server("galera_back", "ctl1")).toMatchObject({ kind: "server", status: "UP", backup: false });
    expect(server("galera_back", "ctl2")).toMatchObject({ kind: "server", backup: true });
    expect(server("galera_back", "ctl2")?.status).toMatch(/^DOWN/);
    expect(server("galera_back", "ctl2")?.check).toMatch(/^L4CON/);
  });

  it("refuses output that is not show stat", () => {
    expect(() => parseShowStat(host, fixture("haproxy-set-server-unknown.txt"))).toThrow(
      expect.objectContaining({ code: "E_TOOL_OUTPUT" }),
    );
    const noStatus = fixture("haproxy-show-stat.csv").replace(",status,", ",statut,");
    expect(() => parseShowStat(host, noStatus)).toThrow(/status/);
  });
});

describe("HAProxy runtime commands", () => {
  it("reads show info and tells a refused server change from a done one", async () => {
    const answering = (answer: string) => replaying({ socat: answer });
    expect((await showInfo(answering(fixture("haproxy-show-info.txt")))).Name).toBe("HAProxy");
    await expect(showInfo(answering(fixture("haproxy-set-server-unknown.txt")))).rejects.toMatchObject({
      code: "E_TOOL_OUTPUT",
    });
    await setServerState(answering(fixture("haproxy-set-server-ok.txt")), "galera_back", "ctl2", "maint");
    await expect(
      setServerState(answering(fixture("haproxy-set-server-unknown.txt")), "galera_back", "ctl9", "ready"),
    ).rejects.toThrow("Cannot set galera_back/ctl9 to ready on ctl1: No such server.");
  });
});

describe("etcdctl -w json", () => {
  it("keeps 64-bit member ids exact (JSON numbers beyond 2^53)", () => {
    const [status] = parseEndpointStatus(host, fixture("etcd-endpoint-status.json"));
    const raw = /"member_id":\s*(\d+)/.exec(fixture("etcd-endpoint-status.json"))?.[1];
    expect(status?.Status.header.member_id).toBe(raw);
    expect(status?.Status.leader).toBe(raw);
    // What plain JSON.parse would have made of it: a different number.
    expect(String(JSON.parse(`{"n":${raw}}`).n)).not.toBe(raw);
    expect(status?.Status.version).toMatch(/^3\.5\./);
    const members = parseMemberList(host, fixture("etcd-member-list.json"));
    expect(members).toEqual([
      { ID: raw, name: "ctl1", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"] },
    ]);
    expect(parseJsonExact('{"leader":0}')).toEqual({ leader: "0" });
  });

  it("refuses an answer without a leader field", () => {
    const text = fixture("etcd-endpoint-status.json").replace(/"leader":\d+,/, "");
    expect(() => parseEndpointStatus(host, text)).toThrow(/leader/);
  });
});

describe("rabbitmqctl --formatter json", () => {
  const t = replaying({
    cluster_status: fixture("rabbitmq-cluster-status.json"),
    "list_queues -p openstack": fixture("rabbitmq-list-queues.json"),
    "list_queues -p /": fixture("rabbitmq-list-queues-empty.json"),
    list_vhosts: fixture("rabbitmq-list-vhosts.json"),
    list_users: fixture("rabbitmq-list-users.json"),
    list_user_permissions: fixture("rabbitmq-list-user-permissions.json"),
    // Not captured yet (capture.ts has its line): written in the shape of its neighbours.
    "list_permissions -p openstack": fixture("rabbitmq-list-permissions.json"),
  });

  it("reads the cluster status of a real RabbitMQ 4 node", async () => {
    expect(await clusterStatus(t)).toEqual({
      running: ["rabbit@ctl1"],
      disk: ["rabbit@ctl1"],
      partitions: 0,
      alarms: [],
    });
    expect(t.asked.at(-1)).toBe("rabbitmq-diagnostics -q cluster_status --formatter json");
  });

  it("reads queues with their type and leader, vhosts, users and permissions", async () => {
    const queues = await listQueues(t, "openstack");
    expect(queues.find((q) => q.name === "q1")).toMatchObject({ type: "quorum", leader: "rabbit@ctl1" });
    expect(queues.find((q) => q.name === "classic1")?.type).toBe("classic");
    expect(await listQueues(t, "/")).toEqual([]);
    expect(await listVhosts(t)).toContainEqual({ name: "openstack", default_queue_type: "quorum" });
    expect((await listUsers(t)).map((u) => u.user).sort()).toEqual(["guest", "openstack"]);
    expect(await listUserPermissions(t, "openstack")).toEqual([
      { vhost: "openstack", configure: ".*", write: ".*", read: ".*" },
    ]);
    expect(await listPermissions(t, "openstack")).toEqual([
      { user: "openstack", configure: ".*", write: ".*", read: ".*" },
    ]);
    expect(t.asked.at(-1)).toBe("rabbitmqctl -q list_permissions -p openstack --formatter json");
  });

  it("says which tool answered what when the JSON is not the documented shape", async () => {
    const bad = replaying({ cluster_status: '{"running_nodes":"rabbit@ctl1"}' });
    await expect(clusterStatus(bad)).rejects.toMatchObject({
      code: "E_TOOL_OUTPUT",
      message: expect.stringContaining("running_nodes"),
    });
    await expect(clusterStatus(replaying({}))).rejects.toMatchObject({
      code: "E_RABBITMQ",
      message: expect.stringMatching(/^Cannot read the RabbitMQ cluster status on ctl1: exit code 1/),
    });
  });
});

describe("mariadb -N -B and systemctl show", () => {
  it("sends the statement on stdin, never in argv, and reads the rows", async () => {
    const seen: { argv: string; stdin: string }[] = [];
    const t = {
      name: "ctl1",
      exec: async (argv: string[], opts?: ExecOptions): Promise<ExecResult> => {
        seen.push({ argv: argv.join(" "), stdin: String(opts?.stdin ?? "") });
        return { code: 0, stdout: fixture("mariadb-global-status.tsv"), stderr: "", durationMs: 1 };
      },
    } as unknown as Transport;
    const rows = await sql(t, "ALTER USER x IDENTIFIED BY 'Secret-Value-1'");
    expect(rows.length).toBeGreaterThan(0);
    expect(seen[0]?.argv).toBe("mariadb -N -B");
    expect(seen[0]?.stdin).toBe("ALTER USER x IDENTIFIED BY 'Secret-Value-1';\n");
  });

  it("names the host and MariaDB's error when a statement fails", async () => {
    const t = {
      name: "ctl2",
      exec: async (): Promise<ExecResult> => ({
        code: 1,
        stdout: "",
        stderr: fixture("mariadb-error.txt"),
        durationMs: 1,
      }),
    } as unknown as Transport;
    await expect(sql(t, "SELEC 1")).rejects.toMatchObject({
      code: "E_SQL",
      message: expect.stringMatching(/^Cannot run SQL on ctl2: exit code 1: .*ERROR 1064/),
    });
  });

  it("reads rows of a real SHOW GLOBAL STATUS", () => {
    const rows = Object.fromEntries(parseRows(fixture("mariadb-global-status.tsv")));
    expect(rows.wsrep_ready).toBe("OFF");
    expect(rows.wsrep_cluster_status).toBe("Disconnected");
    expect(Number(rows.Uptime)).toBeGreaterThan(0);
  });

  it("keeps '=' inside a property value", () => {
    // systemctl show prints KEY=VALUE lines; ExecStart-like values contain '=' themselves.
    expect(parseShow("ActiveState=active\nExecStart={ path=/usr/bin/x ; argv[]=/usr/bin/x -a=b }\n")).toEqual(
      {
        ActiveState: "active",
        ExecStart: "{ path=/usr/bin/x ; argv[]=/usr/bin/x -a=b }",
      },
    );
  });
});
