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
  | "corosync"
  /** keepalived.conf: `name { key value }` blocks; an entry with an empty value is a bare word */
  | "keepalived"
  /** one flat section: `key value` lines (chrony.conf, memcached.conf: `-l 10.0.0.1`) */
  | "space";

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

/** Section names a document offers to overrides (nested ones as parent.child). */
export function sectionNames(doc: ConfigDoc): string[] {
  const names: string[] = [];
  function walk(sections: DocSection[], prefix: string): void {
    for (const s of sections) {
      const name = prefix ? `${prefix}.${s.name}` : s.name;
      names.push(name);
      if (s.children) walk(s.children, name);
    }
  }
  walk(doc.sections, "");
  return [...new Set(names)];
}

/**
 * Sets `key` in every section called `section` (dotted for nested blocks): replaces every entry
 * with that key, or appends one. Returns false when no such section exists.
 */
export function setEntry(doc: ConfigDoc, section: string, key: string, value: string): boolean {
  const targets = findSections(doc.sections, section.split("."));
  for (const target of targets) {
    const index = target.entries.findIndex(([k]) => k === key);
    if (index === -1) {
      target.entries.push([key, value]);
      continue;
    }
    target.entries = target.entries.filter(([k], i) => k !== key || i === index);
    target.entries[index] = [key, value];
  }
  return targets.length > 0;
}

function findSections(sections: DocSection[], path: string[]): DocSection[] {
  const [head, ...rest] = path;
  const matches = sections.filter((s) => s.name === head);
  if (rest.length === 0) return matches;
  return matches.flatMap((s) => findSections(s.children ?? [], rest));
}
