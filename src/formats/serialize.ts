import { HastackError } from "../util/errors.ts";
import type { ConfigDoc, DocSection } from "./doc.ts";

/** Turns a structured document into the text its daemon reads. */
export function serializeDoc(doc: ConfigDoc): string {
  assertSingleLines(doc.sections);
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
    sections
      .map((s) => [s.name, ...s.entries.map(([k, v]) => `    ${v === "" ? k : `${k} ${v}`}`)].join("\n"))
      .join("\n\n"),
  keyvalue: (sections) => sections.flatMap((s) => s.entries.map(([k, v]) => `${k} = ${v}`)).join("\n"),
  "shell-env": (sections) =>
    sections.flatMap((s) => s.entries.map(([k, v]) => `${k}=${shellValue(v)}`)).join("\n"),
  corosync: (sections) => sections.map((s) => block(s, 0, ": ")).join("\n\n"),
  keepalived: (sections) => sections.map((s) => block(s, 0, " ")).join("\n\n"),
  space: (sections) =>
    sections.flatMap((s) => s.entries.map(([k, v]) => (v === "" ? k : `${k} ${v}`))).join("\n"),
};

/** corosync (`key: value`) and keepalived (`key value`, or a bare word when the value is empty). */
function block(section: DocSection, depth: number, separator: string): string {
  const pad = "    ".repeat(depth);
  const inner = [
    ...section.entries.map(([k, v]) => `${pad}    ${v === "" ? k : `${k}${separator}${v}`}`),
    ...(section.children ?? []).map((c) => block(c, depth + 1, separator)),
  ];
  return [`${pad}${section.name} {`, ...inner, `${pad}}`].join("\n");
}

/** Double quotes keep spaces; the characters a shell would expand inside them are escaped. */
function shellValue(value: string): string {
  return `"${value.replace(/(["\\$`])/g, "\\$1")}"`;
}

/**
 * Every format here is line based: a newline inside a key or value (say from an inventory
 * override) would smuggle a second directive into the file. Refuse it instead of writing it.
 */
function assertSingleLines(sections: DocSection[]): void {
  for (const section of sections) {
    assertSingleLine(section.name);
    // A loop, not a flattened copy: 1.7 million entries for 5,000 computes.
    for (const entry of section.entries) for (const text of entry) assertSingleLine(text);
    assertSingleLines(section.children ?? []);
  }
}

function assertSingleLine(text: string): void {
  if (/[\r\n]/.test(text)) {
    throw new HastackError("E_CONFIG_NEWLINE", `Cannot write ${JSON.stringify(text)}: it spans lines`, {
      hint: "config keys, values and section names must be one line each",
    });
  }
}
