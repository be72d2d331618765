import { describe, expect, it } from "vitest";
import { canonicalXml, scopeXml, withoutEmptySets } from "./cib-load.ts";

// hastack-engine as cib.xml renders it, and as `cibadmin --query` showed it on the lab right
// after `crm_resource --restart --resource hastack-engine` (Pacemaker 3.0, Debian 13).
const wanted = `<resources>
  <primitive id="hastack-engine" class="systemd" type="hastack-engine">
    <operations>
      <op id="hastack-engine-monitor-interval-5s" name="monitor" interval="5s" timeout="30s"/>
    </operations>
  </primitive>
</resources>`;
const restarted = `<cib><configuration><resources>
  <primitive id="hastack-engine" class="systemd" type="hastack-engine">
    <operations>
      <op id="hastack-engine-monitor-interval-5s" interval="5s" name="monitor" timeout="30s"/>
    </operations>
    <meta_attributes id="hastack-engine-meta_attributes"/>
  </primitive>
</resources></configuration></cib>`;
const same = (xml: string) => canonicalXml(withoutEmptySets(scopeXml(xml, "resources")));

describe("comparing a CIB scope", () => {
  it("sees no difference in the empty attribute set a restart leaves behind", () => {
    expect(canonicalXml(scopeXml(restarted, "resources"))).not.toBe(canonicalXml(wanted));
    expect(same(restarted)).toBe(same(wanted));
    expect(same(restarted.replace('"/>\n  </primitive>', '"></meta_attributes>\n  </primitive>'))).toBe(
      same(wanted),
    );
  });

  it("still sees a set that holds something, such as a resource stopped by hand", () => {
    const stopped = restarted.replace(
      '<meta_attributes id="hastack-engine-meta_attributes"/>',
      '<meta_attributes id="hastack-engine-meta_attributes"><nvpair id="t" name="target-role" value="Stopped"/></meta_attributes>',
    );
    expect(same(stopped)).not.toBe(same(wanted));
    expect(same(stopped)).toContain('name="target-role"');
  });
});
