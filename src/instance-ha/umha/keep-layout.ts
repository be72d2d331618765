/**
 * @module
 * The yaml library keeps comments and key order through parseDocument/toString, but writes every
 * flow collection with one padding (`[ a ]` or `[a]`) and one space before a trailing comment, so
 * lines the edit never changed would be rewritten. This puts the original text back on every
 * line that differs from it only by that layout: the edit's diff is then the inserted and changed
 * lines only.
 */

/**
 * A line with the spaces inside flow brackets removed and other runs of spaces after the
 * indentation made one (the library also writes one space before a trailing comment): equal
 * lines differ only by the layout the library imposes.
 */
function normalized(line: string): string {
  return line
    .trimEnd()
    .replace(/(\S)\s+/g, "$1 ")
    .replace(/([[{])\s+/g, "$1")
    .replace(/\s+([\]}])/g, "$1");
}

/** How far ahead an original line is looked for among the edited ones (an inserted block is short). */
const LOOKAHEAD = 64;

/**
 * `edited` with each line that is `original`'s modulo layout written as in `original`.
 * Every output line is one of `edited`'s or its padding-equal original, so the YAML it says is
 * exactly `edited`'s whatever the alignment.
 */
export function keepLayout(original: string, edited: string): string {
  const before = original.split("\n");
  const after = edited.split("\n");
  const beforeN = before.map(normalized);
  const afterN = after.map(normalized);
  const out: string[] = [];
  let i = 0;
  for (let j = 0; j < after.length; j++) {
    const line = after[j] ?? "";
    if (i < before.length && beforeN[i] === afterN[j]) {
      out.push(before[i] ?? line);
      i++;
      continue;
    }
    out.push(line);
    // An inserted line leaves the original where it is; a changed line (a key added to a flow
    // map) consumes it: the original line is not found a little further on.
    const next = i < before.length ? afterN.indexOf(beforeN[i] ?? "", j + 1) : -1;
    if (next === -1 || next - j > LOOKAHEAD) i++;
  }
  return out.join("\n");
}
