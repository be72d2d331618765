import type { Topology } from "../topology/types.ts";
import type { Problem } from "../util/errors.ts";
import type { ServiceDef } from "./types.ts";

/**
 * Two services on one port of one address fail at start-up, far from the cause. Collect every
 * bind (services' own listens and HAProxy frontends on VIPs) and report each collision with both
 * owners named. Declared services count too: the ports are theirs before their deploy exists.
 */
export function checkListens(topology: Topology, services: readonly ServiceDef[]): Problem[] {
  const problems: Problem[] = [];
  // Each service's hosts once, not once per host: `hosts` walks every host of the site.
  const listening = services.flatMap((service) =>
    service.listens ? [{ listens: service.listens, hosts: new Set(service.hosts(topology)) }] : [],
  );
  for (const host of topology.hosts) {
    const taken = new Map<string, string>();
    const binds = listening.flatMap(({ listens, hosts }) =>
      hosts.has(host.name) ? listens(topology, host) : [],
    );
    // Frontends bind VIPs on every host that runs HAProxy; a VIP port is shared cluster-wide.
    if (host.roles.includes("controller")) {
      for (const service of services) {
        for (const f of service.frontends?.(topology) ?? []) {
          binds.push({ address: f.address, port: f.port, proto: "tcp", owner: `haproxy frontend ${f.name}` });
          const pub = f.publicBind;
          const owner = `haproxy frontend ${f.name} (public)`;
          if (pub) binds.push({ address: pub.address, port: pub.port, proto: "tcp", owner });
          if (pub?.redirectFrom)
            binds.push({ address: pub.address, port: pub.redirectFrom, proto: "tcp", owner });
        }
      }
    }
    for (const bind of binds) {
      const wildcard = `${bind.proto}:0.0.0.0:${bind.port}`;
      const key = `${bind.proto}:${bind.address}:${bind.port}`;
      const other = taken.get(key) ?? (bind.address === "0.0.0.0" ? undefined : taken.get(wildcard));
      if (other && other !== bind.owner) {
        const onVip = !Object.values(host.addresses).includes(bind.address);
        problems.push({
          severity: "error",
          code: "E_PORT_COLLISION",
          message: `${bind.owner} and ${other} both bind ${bind.address}:${bind.port}/${bind.proto} on ${host.name}`,
          hint: "change one of the two ports under services:",
          path: onVip ? ["vips", "internal"] : ["hosts", host.name, "addresses", "management"],
        });
      } else {
        taken.set(key, bind.owner);
      }
    }
  }
  return dedupe(problems);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = p.message.replace(/ on [a-z0-9-]+$/, "");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
