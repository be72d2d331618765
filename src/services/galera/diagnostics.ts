import { journalArgv, sections } from "../../hostkit/journal.ts";
import type { DiagnosticSpec } from "../types.ts";

/** Each node's wsrep state and saved position (which node may bootstrap), and MariaDB's log. */
export function galeraDiagnostics(): DiagnosticSpec[] {
  return [
    {
      id: "state",
      title: "wsrep status and grastate.dat",
      argv: () =>
        sections([
          `mariadb -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_local_state_comment','wsrep_cluster_size','wsrep_ready','wsrep_connected','wsrep_last_committed','wsrep_cluster_state_uuid','wsrep_local_recv_queue','wsrep_flow_control_paused')"`,
          "cat /var/lib/mysql/grastate.dat",
        ]),
    },
    {
      id: "journal",
      title: "MariaDB's log in the window",
      argv: (window) => journalArgv(["mariadb"], window),
      timeoutMs: 60_000,
    },
  ];
}
