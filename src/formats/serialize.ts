import type { ConfigDoc, DocSection } from "./doc.ts";

/** Turns a structured document into the text its daemon reads. */
export function serializeDoc(doc: ConfigDoc): string {
  const header = (doc.header ?? []).map((line) => (line ? `# ${line}` : "#"));
  const body = writers[doc.format](doc.sections);
  return `${[...header, ...(header.length > 0 ? [""] : []), body].join("\n").trimEnd()}\n`;
}

const writers: Record<ConfigDoc["format"], (sections: DocSection[]) => string> = {
  ini: (sections) =>
    sections
      .map((s) => [`[${s.name}]`, ...s.entries.map(([k, v]) => (v === "" ? k : `${k} = ${v}`))].join("\n"))
      .join("\n\n"),
  haproxy: (sections) =>
    sections.map((s) => [s.name, ...s.entries.map(([k, v]) => `    ${v === "" ? k : `${k} ${v}`}`)].join("\n")).join("\n\n"),
  keyvalue: (sections) => sections.flatMap((s) => s.entries.map(([k, v]) => `${k} = ${v}`)).join("\n"),
  "shell-env": (sections) => sections.flatMap((s) => s.entries.map(([k, v]) => `${k}=${shellValue(v)}`)).join("\n"),
  corosync: (sections) => sections.map((s) => corosyncBlock(s, 0)).join("\n\n"),
};

function corosyncBlock(section: DocSection, depth: number): string {
  const pad = "    ".repeat(depth);
  const inner = [
    ...section.entries.map(([k, v]) => `${pad}    ${k}: ${v}`),
    ...(section.children ?? []).map((c) => corosyncBlock(c, depth + 1)),
  ];
  return [`${pad}${section.name} {`, ...inner, `${pad}}`].join("\n");
}

/** Double quotes keep spaces; the characters a shell would expand inside them are escaped. */
function shellValue(value: string): string {
  return `"${value.replace(/(["\\$`])/g, "\\$1")}"`;
}
