/**
 * A structured config document: sections of ordered key/value entries. Renderers build one,
 * inventory overrides edit it (by section and key), and a writer per format turns it into text.
 * Keys may repeat (haproxy `server` lines, `option` lines); an override replaces every entry
 * with its key.
 */
export type DocFormat =
  /** oslo.config and my.cnf style: [section] then `key = value` */
  | "ini"
  /** haproxy.cfg: a section header line then indented `key value` lines */
  | "haproxy"
  /** one flat section: `key = value` lines (rabbitmq.conf, sysctl.d) */
  | "keyvalue"
  /** one flat section: `KEY="value"` lines (/etc/default/*) */
  | "shell-env"
  /** corosync.conf: `name { key: value }` blocks; nested blocks in `children` */
  | "corosync";

export interface DocSection {
  /** "" for the single section of a flat format. */
  name: string;
  entries: DocEntry[];
  /** Nested blocks (corosync nodelist/node, quorum). */
  children?: DocSection[];
}

export type DocEntry = [key: string, value: string];

export interface ConfigDoc {
  format: DocFormat;
  /** Comment lines written at the top of the file. */
  header?: string[];
  sections: DocSection[];
}

export function isConfigDoc(value: unknown): value is ConfigDoc {
  return typeof value === "object" && value !== null && "format" in value && "sections" in value;
}
