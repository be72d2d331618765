/**
 * A small XML reader for machine output we trust the shape of (crm_mon, cibadmin): elements,
 * attributes and text. No DTDs, no namespaces; enough to walk Pacemaker's XML without adding a
 * dependency.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e.startsWith("#x") || e.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return entities[e] ?? m;
  });
}

export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: "#document", attrs: {}, children: [], text: "" };
  const stack: XmlElement[] = [root];
  const token =
    /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<!DOCTYPE[^>]*>|<\/([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  for (const m of source.matchAll(token)) {
    const top = stack[stack.length - 1] as XmlElement;
    const [, cdata, close, open, attrText, selfClose, text] = m;
    if (cdata !== undefined) top.text += cdata;
    else if (close !== undefined) {
      if (top.name !== close) throw new Error(`Cannot parse XML: </${close}> closes <${top.name}>`);
      stack.pop();
    } else if (open !== undefined) {
      const element: XmlElement = { name: open, attrs: parseAttrs(attrText ?? ""), children: [], text: "" };
      top.children.push(element);
      if (!selfClose) stack.push(element);
    } else if (text !== undefined) top.text += decode(text);
  }
  if (stack.length !== 1)
    throw new Error(`Cannot parse XML: <${stack[stack.length - 1]?.name}> is never closed`);
  const first = root.children[0];
  if (!first) throw new Error("Cannot parse XML: no element");
  return first;
}

function parseAttrs(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of text.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs[m[1] as string] = decode(m[2] ?? m[3] ?? "");
  }
  return attrs;
}

/** Every descendant element called `name`, depth first. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of element.children) {
    if (child.name === name) out.push(child);
    out.push(...findAll(child, name));
  }
  return out;
}

export function findFirst(element: XmlElement, name: string): XmlElement | undefined {
  return findAll(element, name)[0];
}
