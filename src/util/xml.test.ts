import { describe, expect, it } from "vitest";
import { findAll, findFirst, parseXml } from "./xml.ts";

describe("parseXml", () => {
  it("reads elements, attributes, entities and nesting", () => {
    const doc = parseXml(`<?xml version="1.0"?>
<!-- comment -->
<pacemaker-result api-version="2.30">
  <nodes><node name="ctl1" online="true"/><node name='ctl2' online="false" note="a &amp; b"/></nodes>
  <resources><clone id="haproxy-clone"><resource id="haproxy" role="Started"><node name="ctl1"/></resource></clone></resources>
  <status code="0" message="OK">text &lt;here&gt;</status>
</pacemaker-result>`);
    expect(doc.name).toBe("pacemaker-result");
    expect(findAll(doc, "node").map((n) => n.attrs.name)).toEqual(["ctl1", "ctl2", "ctl1"]);
    expect(findAll(doc, "node")[1]?.attrs.note).toBe("a & b");
    expect(findFirst(doc, "resource")?.children[0]?.attrs.name).toBe("ctl1");
    expect(findFirst(doc, "status")?.text).toBe("text <here>");
  });

  it("refuses mismatched tags instead of guessing", () => {
    expect(() => parseXml("<a><b></a>")).toThrow(/closes/);
    expect(() => parseXml("<a><b>")).toThrow(/never closed/);
  });
});
