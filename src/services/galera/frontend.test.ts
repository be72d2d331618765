import { describe, expect, it } from "vitest";
import { exampleTopology, renderedFile } from "../../testing/fixtures.ts";

function galeraServers(haproxyCfg: string): string[] {
  const section = haproxyCfg.split(/\n(?=listen )/).find((s) => s.startsWith("listen galera\n")) ?? "";
  return section.split("\n").filter((l) => l.trim().startsWith("server "));
}

describe("the Galera frontend in haproxy.cfg", () => {
  it("has one writer and two backups, checked every 500 ms where the other listeners keep 1 s", () => {
    const cfg = renderedFile(exampleTopology("lab"), "ctl2", "/etc/haproxy/haproxy.cfg").text;
    const servers = galeraServers(cfg);
    expect(servers).toHaveLength(3);
    expect(servers.filter((l) => / backup( |$)/.test(l))).toHaveLength(2);
    for (const l of servers) expect(l).toMatch(/ check inter 500ms fastinter 250ms .* port 9200/);
    // The writer's short interval is its own: memcached's and etcd's servers keep the site's.
    const others = cfg.split("\n").filter((l) => l.trim().startsWith("server ") && !servers.includes(l));
    expect(others.length).toBeGreaterThan(0);
    for (const l of others) expect(l).not.toContain(" inter 500ms ");
  });

  it("takes the interval from services.galera.check_inter_ms", () => {
    const t = exampleTopology("lab", (inv) => {
      const s = (inv.services ?? {}) as Record<string, Record<string, unknown>>;
      s.galera = { ...(s.galera ?? {}), check_inter_ms: 300 };
      inv.services = s;
    });
    const servers = galeraServers(renderedFile(t, "ctl1", "/etc/haproxy/haproxy.cfg").text);
    for (const l of servers) expect(l).toContain(" inter 300ms ");
  });
});
