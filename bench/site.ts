import { stringify } from "yaml";

/** A big site for benchmarks: 3 controllers and `computes` computes on a /16. */
export function bigSiteYaml(computes: number): string {
  const hosts: Record<string, unknown> = {};
  for (let i = 1; i <= 3; i++) {
    hosts[`ctl${i}`] = {
      roles: ["controller"],
      addresses: { management: `10.20.0.${10 + i}`, bmc: `10.29.0.${10 + i}` },
      bmc: { address: `10.29.1.${10 + i}`, user: "admin", password_secret: `bmc_ctl${i}` },
    };
  }
  for (let i = 1; i <= computes; i++) {
    hosts[`cmp${i}`] = {
      roles: ["compute"],
      addresses: { management: `10.20.${1 + Math.floor(i / 250)}.${(i % 250) + 1}` },
    };
  }
  return stringify({
    cluster: "bench",
    release: "2025.1",
    platform: "debian-13",
    networks: { management: { cidr: "10.20.0.0/16" }, bmc: { cidr: "10.29.0.0/16" } },
    vips: { internal: "10.20.0.10" },
    hosts,
  });
}
