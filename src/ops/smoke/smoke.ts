/**
 * @module
 * `hastack smoke`: what a new user does first, through the VIP with the real `openstack` client:
 * a token, a network with a subnet and a router, servers booted on different computes (an
 * anti-affinity server group), each ACTIVE, each guest answering ping at the address Neutron gave
 * it and HTTP with its own server id (read from the metadata service: the guest's proof that DHCP
 * and metadata worked), asked from its network (the OVN metadata namespace on the compute that
 * runs it), a volume attached to one of them (volume.ts), then everything deleted. Each step is timed. Not the console log: Nova reads a pty
 * console through privsep, and on the lab its third read hung the compute's RPC (MessagingTimeout).
 */
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Osc } from "./osc.ts";
import { Created, faultMessage, ServerShow, serverAddresses } from "./schemas.ts";
import { pollFor, type SmokeRun } from "./steps.ts";
import { backupStep, volumeStep } from "./volume.ts";

export interface SmokeSite {
  /** The demo project's user: creates everything, as a tenant would. */
  demo: Osc;
  /** The admin: where a server runs (a tenant cannot see it), image and flavor checks. */
  admin: Osc;
  /** The compute hosts by name, to ask a guest from its own network. */
  computes: ReadonlyMap<string, Transport>;
  image: string;
  flavor: string;
  servers: number;
  /** Why no volume step: Cinder is not deployed, or undefined when it is. */
  volumeNotRun: string | undefined;
  bootTimeoutMs: number;
}

const CIDR = "192.168.222.0/24";

export async function runSmoke(site: SmokeSite, run: SmokeRun): Promise<void> {
  const { demo, admin } = site;
  const tag = `smoke-${Date.now().toString(36)}`;
  await run.step("token", async () => {
    const t = await demo.json(["token", "issue"], Created);
    return `token for demo (${t.id.length} characters) through ${demo.transport.name}`;
  });
  await run.step("image and flavor", async () => {
    await admin.json(["image", "show", site.image], Created).catch((error: unknown) => {
      throw new HastackError("E_SMOKE_STEP", `Cannot find image ${site.image} in Glance`, {
        cause: error,
        hint: "on the lab, `hastack lab guest-image -i INVENTORY` uploads it",
      });
    });
    await admin.json(["flavor", "show", site.flavor], Created);
    return `${site.image}, ${site.flavor}`;
  });
  let networkId = "";
  await run.step("network, subnet, router", async () => {
    networkId = (await demo.json(["network", "create", tag], Created)).id;
    run.onCleanup(`network ${tag}`, () => demo.run(["network", "delete", networkId]).then(() => {}));
    const subnet = (
      await demo.json(["subnet", "create", "--network", networkId, "--subnet-range", CIDR, tag], Created)
    ).id;
    run.onCleanup(`subnet ${tag}`, () => demo.run(["subnet", "delete", subnet]).then(() => {}));
    const router = (await demo.json(["router", "create", tag], Created)).id;
    run.onCleanup(`router ${tag}`, () => demo.run(["router", "delete", router]).then(() => {}));
    await demo.run(["router", "add", "subnet", router, subnet]);
    run.onCleanup(`router ${tag}'s interface`, () =>
      demo.run(["router", "remove", "subnet", router, subnet]).then(() => {}),
    );
    return `network ${networkId}, subnet ${CIDR}, router with an interface on it`;
  });
  let group = "";
  await run.step("security group and server group", async () => {
    const sg = (await demo.json(["security", "group", "create", tag], Created)).id;
    run.onCleanup(`security group ${tag}`, () =>
      demo.run(["security", "group", "delete", sg]).then(() => {}),
    );
    await demo.run(["security", "group", "rule", "create", "--protocol", "icmp", "--ingress", sg]);
    await demo.run(["security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", sg]);
    const policy = site.servers <= site.computes.size ? "anti-affinity" : "soft-anti-affinity";
    group = (
      await demo.json(
        ["--os-compute-api-version", "2.15", "server", "group", "create", "--policy", policy, tag],
        Created,
      )
    ).id;
    run.onCleanup(`server group ${tag}`, () => demo.run(["server", "group", "delete", group]).then(() => {}));
    return `security group allowing ICMP and TCP 80 in; server group (${policy})`;
  });
  const names = Array.from({ length: site.servers }, (_, i) => `${tag}-${i + 1}`);
  const ids: string[] = [];
  await run.step(`boot ${names.length} servers`, async () => {
    for (const name of names) {
      const s = await demo.json(
        [
          "server",
          "create",
          "--image",
          site.image,
          "--flavor",
          site.flavor,
          "--network",
          networkId,
          "--security-group",
          tag,
          "--hint",
          `group=${group}`,
          name,
        ],
        Created,
      );
      ids.push(s.id);
      run.onCleanup(`server ${name}`, () => deleteServer(demo, s.id));
    }
    return `asked for ${names.join(", ")}`;
  });
  const active = new Map<string, ServerShow>();
  await run.step("servers ACTIVE", async () => {
    let seen = "";
    for (const id of ids) {
      const s = await pollFor(
        `see server ${id} ACTIVE`,
        async () => {
          const now = await admin.json(["server", "show", id], ServerShow);
          seen = now.status;
          if (now.status === "ERROR")
            throw new HastackError("E_SMOKE_STEP", `Server ${id} went to ERROR: ${faultMessage(now)}`);
          return now.status === "ACTIVE" ? now : undefined;
        },
        { timeoutMs: site.bootTimeoutMs, intervalMs: 2000, lastSeen: () => seen },
      );
      active.set(id, s);
    }
    return [...active.values()].map((s) => `${s.id.slice(0, 8)} on ${s["OS-EXT-SRV-ATTR:host"]}`).join(", ");
  });
  await run.step("each guest answers at its address: ping, and HTTP with its id", async () => {
    const out: string[] = [];
    for (const [id, s] of active) {
      const host = s["OS-EXT-SRV-ATTR:host"] ?? "";
      const t = site.computes.get(host);
      if (!t)
        throw new HastackError(
          "E_SMOKE_STEP",
          `Server ${id} runs on ${host || "no host"}, not a compute of the inventory`,
        );
      const ip = serverAddresses(s)[0];
      if (!ip) throw new HastackError("E_SMOKE_STEP", `Server ${id} has no IPv4 address in Neutron`);
      // OVN's metadata agent keeps a namespace per network on each chassis with a port of it.
      const ns = `ovnmeta-${networkId}`;
      const started = performance.now();
      // The guest answers once it has booted and taken its address from OVN's DHCP: wait for it.
      let last = "";
      await pollFor(
        `get an answer to ping from server ${id} (${ip}) in ${ns} on ${host}`,
        async () => {
          const ping = await t.exec(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", ip], {
            timeoutMs: 20_000,
          });
          last = ping.stdout.trim().split("\n").pop() || ping.stderr.trim();
          return ping.code === 0 ? true : undefined;
        },
        { timeoutMs: site.bootTimeoutMs, intervalMs: 1000, lastSeen: () => last },
      );
      const pinged = (performance.now() - started) / 1000;
      // The page holds the id the guest read from the metadata service: DHCP's route to it worked.
      const http = await pollFor(
        `get server ${id}'s id over HTTP from ${ip} in ${ns} on ${host}`,
        async () => {
          const r = await t.exec(["ip", "netns", "exec", ns, "curl", "-sS", "-m", "5", `http://${ip}/`], {
            timeoutMs: 20_000,
          });
          last = (r.stderr || r.stdout).trim();
          return r.code === 0 && r.stdout.includes(id) ? r.stdout.trim() : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 2000, lastSeen: () => last },
      );
      out.push(`${ip} on ${host} (ping after ${pinged.toFixed(1)} s, "${http}")`);
    }
    return out.join(", ");
  });
  if (site.volumeNotRun) {
    run.notRun("volume from Ceph, attached", site.volumeNotRun);
    run.notRun("volume backup to Ceph", site.volumeNotRun);
  } else {
    const [first] = active.values();
    const compute = site.computes.get(first?.["OS-EXT-SRV-ATTR:host"] ?? "");
    if (!first || !compute)
      throw new HastackError("E_SMOKE_STEP", "No ACTIVE server on a known compute to attach a volume to");
    await volumeStep(run, demo, first, compute, tag);
    await backupStep(run, demo, tag);
  }
}

async function deleteServer(demo: Osc, id: string): Promise<void> {
  const r = await demo.attempt(["server", "delete", "--wait", id], 180_000);
  if (r.code !== 0 && !/No server with a name or ID/i.test(r.stderr))
    throw new HastackError("E_SMOKE_STEP", `Cannot delete server ${id}: ${r.stderr.trim()}`);
}
