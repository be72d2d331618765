import type { ConfigDoc } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { galeraSettings } from "./settings.ts";

export const CHECK_USER = "galera_check";
export const CHECK_SCRIPT = "/usr/local/lib/hastack/galera-check";
export const CHECK_CREDENTIALS = "/etc/hastack/galera-check.cnf";

/**
 * The checker HAProxy asks (`option httpchk` + `check port 9200`). It answers 200 only when the
 * node is ready (wsrep_ready=ON) and Synced (wsrep_local_state 4). A Donor (2) counts as
 * available only when the SST method does not block it (mariabackup) and nobody desynced the
 * node on purpose (wsrep_desync=ON: backups, maintenance). A refused or failed query is 503:
 * the runbook's xinetd checker kept answering while MariaDB was down (E5), this one cannot.
 */
export function checkerScript(topology: Topology): string {
  const donorOk = galeraSettings(topology).sst_method === "mariabackup" ? 1 : 0;
  return `#!/bin/bash
# Rendered by hastack. Galera health for HAProxy, one run per connection (galera-check.socket).
# Usage: galera-check CLIENT_CNF   (a [client] file with the ${CHECK_USER} credentials)
set -u
cnf=\${1:?usage: galera-check CLIENT_CNF}
available_when_donor=${donorOk}

respond() {
  local body="$3"$'\\n'
  printf 'HTTP/1.1 %s %s\\r\\nContent-Type: text/plain\\r\\nConnection: close\\r\\nContent-Length: %d\\r\\n\\r\\n%s' \\
    "$1" "$2" "\${#body}" "$body"
  exit 0
}

# Read the request head so the client never sees a reset before the answer.
while IFS= read -r -t 2 line; do
  line=\${line%$'\\r'}
  [ -z "$line" ] && break
done

out=$(timeout 5 mariadb --defaults-extra-file="$cnf" --connect-timeout=2 -N -B -e \\
  "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('WSREP_LOCAL_STATE','WSREP_READY') UNION ALL SELECT 'WSREP_DESYNC', @@GLOBAL.wsrep_desync" 2>/dev/null) ||
  respond 503 "Service Unavailable" "MariaDB is not answering"

state=$(awk '$1 == "WSREP_LOCAL_STATE" { print $2 }' <<<"$out")
ready=$(awk '$1 == "WSREP_READY" { print $2 }' <<<"$out")
desync=$(awk '$1 == "WSREP_DESYNC" { print $2 }' <<<"$out")
summary="wsrep_local_state=\${state:-none} wsrep_ready=\${ready:-none} wsrep_desync=\${desync:-none}"

if [ "$ready" = ON ] && [ "$state" = 4 ]; then
  respond 200 OK "Galera node is synced ($summary)"
fi
if [ "$ready" = ON ] && [ "$state" = 2 ] && [ "$available_when_donor" = 1 ] && [ "$desync" = 0 ]; then
  respond 200 OK "Galera node is a non-blocking donor ($summary)"
fi
respond 503 "Service Unavailable" "Galera node is not synced ($summary)"
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

export function checkerSocket(topology: Topology, host: ResolvedHost): ConfigDoc {
  return {
    format: "ini",
    header: ["Rendered by hastack: Galera health checker for HAProxy."],
    sections: [
      { name: "Unit", entries: [["Description", "Galera health checker socket (HAProxy httpchk)"]] },
      {
        name: "Socket",
        entries: [
          // The management address only: the checker tells anyone who asks about the database.
          ["ListenStream", `${host.ip}:${galeraSettings(topology).check_port}`],
          ["Accept", "yes"],
          ["MaxConnections", "64"],
        ],
      },
      { name: "Install", entries: [["WantedBy", "sockets.target"]] },
    ],
  };
}

export function checkerService(): ConfigDoc {
  return {
    format: "ini",
    header: ["Rendered by hastack: one instance per HAProxy check connection."],
    sections: [
      { name: "Unit", entries: [["Description", "Galera health check for %I"]] },
      {
        name: "Service",
        entries: [
          ["ExecStart", `${CHECK_SCRIPT} %d/client.cnf`],
          ["StandardInput", "socket"],
          ["StandardOutput", "socket"],
          ["StandardError", "journal"],
          // Runs as a throwaway user; the credentials file stays root-only on disk.
          ["DynamicUser", "yes"],
          ["LoadCredential", `client.cnf:${CHECK_CREDENTIALS}`],
          ["RuntimeMaxSec", "10"],
          ["PrivateTmp", "yes"],
          ["ProtectSystem", "strict"],
          ["ProtectHome", "yes"],
          ["NoNewPrivileges", "yes"],
        ],
      },
    ],
  };
}
