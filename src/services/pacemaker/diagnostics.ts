import { journalArgv, sections } from "../../hostkit/journal.ts";
import type { DiagnosticSpec } from "../types.ts";

/**
 * What the book's ch. 13 reads first on a controller after a failover: corosync's and
 * Pacemaker's own logs around it, membership and links, resources with fail counts and failed
 * actions, and the whole fence history.
 */
export function pacemakerDiagnostics(): DiagnosticSpec[] {
  return [
    {
      id: "state",
      title: "Cluster state, fail counts, failed actions, fence history, corosync membership and links",
      argv: () =>
        sections([
          "crm_mon --one-shot --inactive --failcounts --fence-history=3",
          "stonith_admin --history '*'",
          "corosync-quorumtool -s",
          "corosync-cfgtool -s",
        ]),
    },
    {
      id: "journal",
      title: "corosync and Pacemaker logs in the window",
      argv: (window) => journalArgv(["corosync", "pacemaker"], window),
      timeoutMs: 60_000,
    },
  ];
}
