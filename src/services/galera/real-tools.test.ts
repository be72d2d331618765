import { beforeAll, describe, expect, it } from "vitest";
import { exampleTopology, generatedSecrets, placed, renderedFile } from "../../testing/fixtures.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import { CHECK_CREDENTIALS, CHECK_SCRIPT, CHECK_USER } from "./checker.ts";

const topology = exampleTopology("lab");
const secrets = generatedSecrets(topology);
const host = "ctl1";
const ip = "10.20.0.11";
const files = [
  placed(renderedFile(topology, host, "/etc/mysql/mariadb.conf.d/60-galera.cnf"), secrets),
  placed(renderedFile(topology, host, CHECK_SCRIPT), secrets),
  placed(renderedFile(topology, host, CHECK_CREDENTIALS), secrets),
];

// The first use may build the lab image (minutes): do it under the hook timeout, not a test timeout.
beforeAll(() => toolRoot());

describe("galera.cnf in the real mariadbd (Debian 13)", () => {
  it("is accepted by mariadbd's option parser, which rejects an unknown option", async () => {
    const result = await runInImage(
      `mariadbd --help --verbose > /tmp/help 2>&1; echo "good=$?"
       grep -E '^(bind-address|wsrep-cluster-address|wsrep-provider-options|wsrep-sst-method) ' /tmp/help
       echo 'wsrep_bogus_option = 1' >> /etc/mysql/mariadb.conf.d/60-galera.cnf
       mariadbd --help --verbose > /tmp/help 2>&1; echo "bad=$?"; grep -m1 'unknown variable' /tmp/help`,
      { files, hostname: host, addresses: [ip] },
    );
    expect(result.stdout).toContain("good=0");
    expect(result.stdout).toMatch(/^bind-address\s+10\.20\.0\.11$/m);
    expect(result.stdout).toMatch(
      /^wsrep-cluster-address\s+gcomm:\/\/10\.20\.0\.11,10\.20\.0\.12,10\.20\.0\.13$/m,
    );
    expect(result.stdout).toMatch(/^wsrep-sst-method\s+mariabackup$/m);
    // The proof that the check above means something: an unknown option fails the parse.
    expect(result.stdout).toMatch(/bad=[1-9]/);
    expect(result.stdout).toContain("unknown variable 'wsrep_bogus_option=1'");
  });

  it("keeps OpenStack's REPEATABLE READ semantics: an UPDATE after another transaction's commit proceeds (no error 1020)", async () => {
    // Two connections (pymysql, as the services use): A reads a row, B updates and commits it,
    // A updates it. MariaDB 11.8's default (snapshot isolation ON) fails A with 1020; the run with
    // it forced on proves the script can tell the difference.
    const script = [
      "import pymysql",
      "def conn():",
      "    return pymysql.connect(unix_socket='/run/mysqld/mysqld.sock', user='root', autocommit=False)",
      "s = conn(); c = s.cursor()",
      "c.execute('CREATE DATABASE IF NOT EXISTS snap'); c.execute('DROP TABLE IF EXISTS snap.t')",
      "c.execute('CREATE TABLE snap.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB')",
      "c.execute('INSERT INTO snap.t VALUES (1, 0)'); s.commit()",
      "a = conn(); b = conn(); ca = a.cursor(); cb = b.cursor()",
      "ca.execute('SELECT v FROM snap.t WHERE id = 1')",
      "cb.execute('UPDATE snap.t SET v = 10 WHERE id = 1'); b.commit()",
      "try:",
      "    ca.execute('UPDATE snap.t SET v = v + 1 WHERE id = 1'); a.commit(); print('result: ok')",
      "except pymysql.err.OperationalError as e:",
      "    print(f'result: error {e.args[0]}')",
    ].join("\n");
    const waitUp = "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done";
    const waitDown = "for i in $(seq 1 120); do pgrep -x mariadbd >/dev/null || break; sleep 0.25; done";
    const run = (label: string, extra: string) =>
      [
        `mariadbd --user=mysql --wsrep-on=OFF ${extra} > /tmp/${label}.log 2>&1 &`,
        waitUp,
        `echo "== ${label}"; python3 /tmp/snap.py`,
        `mariadb-admin shutdown; ${waitDown}`,
      ].join("\n");
    const result = await runInImage(
      [
        "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
        run("rendered", ""),
        run("forced-on", "--innodb-snapshot-isolation=ON"),
      ].join("\n"),
      {
        files: [...files, { path: "/tmp/snap.py", content: `${script}\n` }],
        hostname: host,
        addresses: [ip],
        timeoutMs: 120_000,
      },
    );
    const answer = (label: string) => result.stdout.split(`== ${label}\n`)[1]?.split("\n")[0]?.trim();
    expect(answer("rendered"), result.stdout + result.stderr).toBe("result: ok");
    expect(answer("forced-on"), result.stdout + result.stderr).toBe("result: error 1020");
  });

  it("checker (one long-running process) answers 503 when stopped, without wsrep, and desynced; 200 on a Synced one-node cluster", async () => {
    // The checker as its unit runs it: one process on the management address, asked over HTTP.
    const check = (label: string) =>
      `echo "== ${label}"; curl -s -i --max-time 5 http://${ip}:9200/ | head -1 | tr -d '\\r'; echo`;
    const waitUp = "for i in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done";
    const waitDown = "for i in $(seq 1 120); do pgrep -x mariadbd >/dev/null || break; sleep 0.25; done";
    const result = await runInImage(
      [
        "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld",
        `python3 ${CHECK_SCRIPT} ${ip} 9200 ${CHECK_CREDENTIALS} > /tmp/checker.log 2>&1 &`,
        `for i in $(seq 1 40); do curl -s -o /dev/null http://${ip}:9200/ && break; sleep 0.25; done`,
        check("stopped"),
        // A plain MariaDB (no Galera): it answers queries, but it is not a synced cluster node.
        `mariadbd --user=mysql --wsrep-on=OFF > /tmp/plain.log 2>&1 &`,
        waitUp,
        `mariadb -e "CREATE USER ${CHECK_USER}@localhost IDENTIFIED BY '${secrets.galera_check}'"`,
        check("no-wsrep"),
        `mariadb-admin shutdown; ${waitDown}`,
        // The rendered galera.cnf, bootstrapped as a one-node cluster: provider options load for real.
        `mariadbd --user=mysql --wsrep-new-cluster > /tmp/galera.log 2>&1 &`,
        waitUp,
        `for i in $(seq 1 120); do [ "$(mariadb -N -B -e "SHOW STATUS LIKE 'wsrep_local_state'" | cut -f2)" = 4 ] && break; sleep 0.25; done`,
        `mariadb -N -B -e "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment','wsrep_ready')"`,
        check("synced"),
        // As HAProxy's check does: send the request, then reset the connection before the answer.
        `for i in 1 2 3; do python3 -c "import socket, struct; s = socket.create_connection(('${ip}', 9200)); s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()"; done; sleep 0.5`,
        `mariadb -e "SET GLOBAL wsrep_desync = ON"`,
        check("desynced"),
        `mariadb -e "SET GLOBAL wsrep_desync = OFF"`,
        `mariadb-admin shutdown; ${waitDown}`,
        check("stopped again"),
        "grep -iE 'ERROR' /tmp/galera.log | head -5",
        "cat /tmp/checker.log",
      ].join("\n"),
      { files, hostname: host, addresses: [ip], timeoutMs: 120_000 },
    );
    const answer = (label: string) => result.stdout.split(`== ${label}\n`)[1]?.split("\n")[0]?.trim();
    expect(result.stdout).toMatch(/wsrep_cluster_size\s+1/);
    expect(result.stdout).toMatch(/wsrep_local_state_comment\s+Synced/);
    expect(answer("stopped")).toBe("HTTP/1.1 503 Service Unavailable");
    expect(answer("no-wsrep")).toBe("HTTP/1.1 503 Service Unavailable");
    expect(answer("synced")).toBe("HTTP/1.1 200 OK");
    expect(answer("desynced")).toBe("HTTP/1.1 503 Service Unavailable");
    // The same process after MariaDB went away and came back and went away: it reconnects.
    expect(answer("stopped again")).toBe("HTTP/1.1 503 Service Unavailable");
    // A client that resets the connection is no error worth a traceback in the journal.
    expect(result.stdout).not.toMatch(/Traceback|ConnectionResetError|BrokenPipeError/);
  });
});
