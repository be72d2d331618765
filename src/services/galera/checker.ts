import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { galeraSettings } from "./settings.ts";

export const CHECK_USER = "galera_check";
export const CHECK_SCRIPT = "/usr/local/lib/hastack/galera-check.py";
export const CHECK_CREDENTIALS = "/etc/hastack/galera-check.cnf";
export const CHECK_UNIT = "galera-check.service";
/** What the per-connection checker (a socket unit spawning bash + mariadb per check) left behind. */
export const OLD_CHECKER_FILES = [
  "/etc/systemd/system/galera-check.socket",
  "/etc/systemd/system/galera-check@.service",
  "/usr/local/lib/hastack/galera-check",
];

/**
 * The checker HAProxy asks (`option httpchk` + `check port 9200`). It answers 200 only when the
 * node is ready (wsrep_ready=ON) and Synced (wsrep_local_state 4). A Donor (2) counts as
 * available only when the SST method does not block it (mariabackup) and nobody desynced the
 * node on purpose (wsrep_desync=ON: backups, maintenance). A refused or failed query is 503:
 * the runbook's xinetd checker kept answering while MariaDB was down (E5), this one cannot.
 *
 * One long-running process with one MariaDB connection, not a process per check: three HAProxies
 * checking three nodes every second made the per-connection checker (a systemd instance, bash,
 * the mariadb client) cost 24-30% of a core on every lab controller at rest, which is exactly
 * the load that stretches failovers on a busy controller.
 */
export function checkerScript(topology: Topology): string {
  const donorOk = galeraSettings(topology).sst_method === "mariabackup" ? "True" : "False";
  return `#!/usr/bin/python3
# Rendered by hastack. Galera health for HAProxy: one process, one MariaDB connection.
# Usage: galera-check.py ADDRESS PORT CLIENT_CNF   (a [client] file with the ${CHECK_USER} credentials)
import configparser
import http.server
import sys
import threading

import pymysql

AVAILABLE_WHEN_DONOR = ${donorOk}
QUERY = (
    "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
    "WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE', 'WSREP_READY') "
    "UNION ALL SELECT 'WSREP_DESYNC', @@GLOBAL.wsrep_desync"
)

address, port, cnf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = configparser.ConfigParser()
client.read(cnf)
credentials = dict(client["client"])
lock = threading.Lock()
connection = None


def wsrep_status():
    """The three values, or None when MariaDB does not answer. A connection that went stale
    (MariaDB restarted since) gets one fresh try in the same check, so a restart never costs a
    false 503."""
    global connection
    with lock:
        for _ in range(2):
            fresh = connection is None
            try:
                if connection is None:
                    connection = pymysql.connect(
                        unix_socket=credentials["socket"],
                        user=credentials["user"],
                        password=credentials["password"],
                        connect_timeout=2,
                        read_timeout=2,
                        autocommit=True,
                    )
                with connection.cursor() as cursor:
                    cursor.execute(QUERY)
                    return {name.upper(): str(value) for name, value in cursor.fetchall()}
            except Exception:
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        pass
                connection = None
                if fresh:
                    return None
        return None


def verdict():
    status = wsrep_status()
    if status is None:
        return 503, "MariaDB is not answering"
    state, ready, desync = (status.get(k, "none") for k in ("WSREP_LOCAL_STATE", "WSREP_READY", "WSREP_DESYNC"))
    summary = f"wsrep_local_state={state} wsrep_ready={ready} wsrep_desync={desync}"
    if ready == "ON" and state == "4":
        return 200, f"Galera node is synced ({summary})"
    if ready == "ON" and state == "2" and AVAILABLE_WHEN_DONOR and desync == "0":
        return 200, f"Galera node is a non-blocking donor ({summary})"
    return 503, f"Galera node is not synced ({summary})"


class Check(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self):
        code, text = verdict()
        body = (text + "\\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_HEAD = do_GET
    do_OPTIONS = do_GET

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # HAProxy's check reads the status line and resets the connection: the journal got a
        # traceback per check (several a second across the cluster). Anything else is still logged.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


server = Server((address, port), Check)
server.serve_forever()
`;
}

/** The checker's credentials: a [client] file only root can read, passed in by LoadCredential. */
export function checkerCredentials(password: string): ConfigDoc {
  return {
    format: "ini",
    sections: [
      {
        name: "client",
        entries: [
          ["user", CHECK_USER],
          ["password", password],
          ["socket", "/run/mysqld/mysqld.sock"],
        ],
      },
    ],
  };
}

export function checkerService(topology: Topology, host: ResolvedHost): ConfigDoc {
  return {
    format: "ini",
    header: ["Rendered by hastack: Galera health checker for HAProxy (httpchk on port 9200)."],
    sections: [
      {
        name: "Unit",
        entries: [
          ["Description", "Galera health checker for HAProxy"],
          ["After", "network-online.target"],
        ],
      },
      {
        name: "Service",
        entries: [
          // The management address only: the checker tells anyone who asks about the database.
          [
            "ExecStart",
            `/usr/bin/python3 ${CHECK_SCRIPT} ${host.ip} ${galeraSettings(topology).check_port} %d/client.cnf`,
          ],
          ["Restart", "always"],
          ["RestartSec", "1"],
          // Runs as a throwaway user; the credentials file stays root-only on disk.
          ["DynamicUser", "yes"],
          ["LoadCredential", `client.cnf:${CHECK_CREDENTIALS}`],
          ["PrivateTmp", "yes"],
          ["ProtectSystem", "strict"],
          ["ProtectHome", "yes"],
          ["NoNewPrivileges", "yes"],
        ],
      },
      { name: "Install", entries: [["WantedBy", "multi-user.target"]] },
    ],
  };
}
