/**
 * @module
 * What an import of UMHA's files plans: values for the inventory (each a YAML path), secrets for
 * the secrets file, and a report line for every UMHA key and host, mapped or not.
 */

/**
 * set: the import writes it; unchanged: the inventory already says so; kept: the inventory says
 * otherwise and keeps its value; not-imported: no counterpart in hastack (the detail says why);
 * warning: not imported, and hastack behaves differently from what UMHA was told.
 */
export type Outcome = "set" | "unchanged" | "kept" | "not-imported" | "warning";

export interface ReportEntry {
  /** What UMHA had: "umha.conf [valve] error_count = 3", "ipmi_info line 2 (cmp1.lab.example)". */
  subject: string;
  outcome: Outcome;
  detail: string;
}

/** One value for the inventory, at a path under its root (hosts.cmp1.bmc, instance_ha.missed_heartbeats). */
export interface Setting {
  path: readonly string[];
  value: unknown;
  subject: string;
  detail: string;
}
