/**
 * @module
 * The real VMs an instance-HA drill runs: booted on one compute, each writing a marker to its
 * disk (the lab guest's rc.sh), watched through the `openstack` client, pinged from a compute in
 * OVN's metadata namespace of their network, and deleted with their network afterwards.
 */
import { z } from "zod";
import type { Nova, Server } from "../../openstack/nova.ts";
import type { Osc } from "../../ops/smoke/osc.ts";
import { ServerShow, serverAddresses } from "../../ops/smoke/schemas.ts";
import type { Transport } from "../../transport/types.ts";
import { secondsBetween, type VmOutcome } from "./report.ts";

export interface GuestDeps {
  /** The `openstack` client as the cloud's admin. */
  admin: Osc;
  transport: (host: string) => Transport;
}

const ServerRow = z.looseObject({
  ID: z.string(),
  Name: z.string(),
  Status: z.string(),
  Host: z.string().nullish(),
});
export type ServerRow = z.infer<typeof ServerRow>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The guests' network, subnet and security group (ICMP in: the ping that shows a guest answers). */
export async function guestNetwork(admin: Osc, tag: string): Promise<string> {
  const networkId = (await admin.run(["network", "create", tag, "-f", "value", "-c", "id"])).trim();
  await admin.run(["subnet", "create", "--network", tag, "--subnet-range", "192.168.79.0/24", tag]);
  await admin.run(["security", "group", "create", tag]);
  await admin.run(["security", "group", "rule", "create", "--ingress", "--protocol", "icmp", tag]);
  return networkId;
}

/**
 * Boots `count` servers on `host`, each asked by its user-data for a disk marker of its own, and
 * waits until all are ACTIVE and every marker is on its disk (before any fault is injected).
 */
export async function bootGuests(
  deps: GuestDeps,
  o: { tag: string; host: string; count: number; image: string; flavor: string },
): Promise<{ vms: VmOutcome[]; tokens: Map<string, string> }> {
  const { admin } = deps;
  const vms: VmOutcome[] = [];
  const tokens = new Map<string, string>();
  for (let i = 1; i <= o.count; i++) {
    const token = `${o.tag}-${i}`;
    const file = `/tmp/${token}.user-data`;
    await admin.transport.writeFile(file, `#!/bin/sh\nhastack-guest-disk-marker: ${token}\n`, {
      owner: "root",
      group: "root",
      mode: 0o600,
    });
    const id = (
      await admin.run([
        ...["server", "create", "--availability-zone", `nova:${o.host}`, "--image", o.image],
        ...["--flavor", o.flavor, "--network", o.tag, "--security-group", o.tag, "--user-data", file, token],
        ...["-f", "value", "-c", "id"],
      ])
    ).trim();
    tokens.set(id, token);
    vms.push({ id, name: token, diskIntact: false });
  }
  await waitFor(`${o.count} server(s) ACTIVE on ${o.host}`, 300_000, async () => {
    const rows = await serverRows(admin, o.tag);
    if (rows.some((r) => r.Status === "ERROR")) throw new Error(`a server went to ERROR on ${o.host}`);
    return rows.filter((r) => r.Status === "ACTIVE").length === o.count;
  });
  for (const vm of vms)
    await waitFor(`the disk marker of ${vm.name}`, 300_000, async () =>
      (await consoleLog(deps, o.host, vm.id)).includes(`disk marker written: ${tokens.get(vm.id)}`),
    );
  return { vms, tokens };
}

/**
 * Each VM as Nova's API shows it now, read straight from this process (within about a second of
 * Nova, where one `openstack server list` took 2-20 s on the loaded lab), all in one request by
 * the drill's name prefix: one GET per VM a second was ten a second to Nova's API with ten VMs,
 * CPU the lab's cores did not have to spare. `server` undefined: Nova no longer knows the VM.
 * When the read fails, no VM is returned: each is read again at the next poll.
 */
export async function readServers(
  nova: Pick<Nova, "serversNamed">,
  tag: string,
  vms: readonly VmOutcome[],
): Promise<{ vm: VmOutcome; server: Server | undefined }[]> {
  if (vms.length === 0) return [];
  const servers = await nova.serversNamed(`^${tag}-`).catch(() => undefined);
  if (!servers) return [];
  const byId = new Map(servers.map((s) => [s.id, s]));
  return vms.map((vm) => ({ vm, server: byId.get(vm.id) }));
}

/** Nova's host is the first label of what it may show as an FQDN (cmp2.example.org). */
export function shortHost(host: string | null | undefined): string | undefined {
  return host?.split(".")[0] || undefined;
}

export async function serverRows(admin: Osc, tag: string): Promise<ServerRow[]> {
  return admin.json(
    [
      ...["server", "list", "--all-projects", "--long", "--name", `^${tag}-`],
      ...["-c", "ID", "-c", "Name", "-c", "Status", "-c", "Host"],
    ],
    z.array(ServerRow),
  );
}

/**
 * The guest's serial console as libvirt writes it on its compute (Nova's instances_path): read
 * there rather than through `openstack console log show`, which took 20 s a call on the lab.
 */
export async function consoleLog(deps: GuestDeps, host: string, id: string): Promise<string> {
  const r = await deps.transport(host).exec(["cat", `/var/lib/nova/instances/${id}/console.log`], {
    timeoutMs: 20_000,
  });
  return r.code === 0 ? r.stdout : "";
}

/** Waits for the guest to find its marker on its disk after a boot on `host` (a slow TCG boot). */
export async function diskIntact(
  deps: GuestDeps,
  host: string,
  vm: VmOutcome,
  token: string,
): Promise<boolean> {
  return waitFor(`the disk marker of ${vm.name} on ${host}`, 120_000, async () =>
    (await consoleLog(deps, host, vm.id)).includes(`disk marker found: ${token}`),
  ).then(
    () => true,
    () => false,
  );
}

/** A ping from `host`, in OVN's metadata namespace of the guests' network there; true once answered. */
export async function guestAnswers(
  deps: GuestDeps,
  vm: VmOutcome,
  host: string,
  networkId: string,
): Promise<boolean> {
  const show = await deps.admin.json(["server", "show", vm.id], ServerShow);
  const ip = serverAddresses(show)[0];
  if (!ip) return false;
  const t = deps.transport(host);
  const ns = `ovnmeta-${networkId}`;
  return waitFor(`${vm.name} answering at ${ip}`, 180_000, async () =>
    t.exec(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", ip], { timeoutMs: 10_000 }).then(
      (r) => r.code === 0,
      () => false,
    ),
  ).then(
    () => true,
    () => false,
  );
}

/** The UUIDs of the domains libvirt runs on `host` (Nova names a domain's UUID after its server). */
export async function runningDomains(deps: GuestDeps, host: string): Promise<string[]> {
  const r = await deps.transport(host).exec(["virsh", "-c", "qemu:///system", "list", "--uuid"], {
    timeoutMs: 20_000,
  });
  if (r.code !== 0)
    throw new Error(`Cannot list the domains on ${host}: exit code ${r.code}: ${r.stderr.trim()}`);
  return r.stdout
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

export async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`Cannot see ${what}: not within ${Math.round(ms / 1000)} s`);
    await sleep(1000);
  }
}

export async function cleanupGuests(admin: Osc, tag: string): Promise<void> {
  const rows = await serverRows(admin, tag).catch(() => []);
  if (rows.length > 0) await admin.attempt(["server", "delete", "--wait", ...rows.map((r) => r.ID)], 300_000);
  await admin.attempt(["subnet", "delete", tag]);
  await admin.attempt(["network", "delete", tag]);
  await admin.attempt(["security", "group", "delete", tag]);
}

/** Seconds since `from`, for a timeline line. */
export function since(from: Date): number {
  return secondsBetween(from, new Date());
}
