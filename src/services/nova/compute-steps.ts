/**
 * @module
 * Nova on the computes: libvirt running (its autostart `default` network removed: guests are
 * wired by Neutron, and its dnsmasq would hold 192.168.122.0/24 on every compute), client.nova's
 * key in a libvirt secret (QEMU attaches RBD disks with it), nova-compute running; then, on the
 * bootstrap controller, the computes nova lists as up mapped to cell1 (discover_hosts), so a
 * compute added to the inventory joins the cloud on the next deploy.
 */
import { enabledOf, inactiveOf, startDeliberately, systemctl } from "../../hostkit/systemd.ts";
import type { Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { lastLines } from "../../util/text.ts";
import { volumeSecretUuid } from "../ceph/layout.ts";
import { OsServiceList, sameHost } from "../openstack/os-services.ts";
import { secretNames } from "../openstack/oslo.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { hostMappingsFromDb } from "./cell-db.ts";
import { HypervisorList, novaGet, upHosts } from "./compute-api.ts";
import { novaManage } from "./manage.ts";
import { rbdSecretUuid } from "./settings.ts";

const VIRSH = ["virsh", "-c", "qemu:///system"];

/**
 * libvirt's units as the component lists them. Installed, they are disabled (the lab image
 * starts nothing it installs); enabling libvirtd enables its sockets too (Also=), and it requires
 * virtlogd's socket. A unit an operator masked stays masked: enable then fails, naming it.
 */
export const LIBVIRT_UNITS = [
  "libvirtd.service",
  "libvirtd.socket",
  "libvirtd-ro.socket",
  "libvirtd-admin.socket",
  "virtlogd.service",
  "virtlogd.socket",
  "virtlogd-admin.socket",
];
const LIBVIRT_ENABLED = ["libvirtd.service", "virtlogd.socket"];
/**
 * What must be running: the sockets. Debian runs libvirtd with `--timeout 120`, so the daemon
 * itself exits when idle and the socket starts it again (a check on libvirtd.service would see a
 * healthy idle compute as broken, measured on the lab); nova-compute's connection keeps it up.
 */
const LIBVIRT_SOCKETS = ["libvirtd.socket", "virtlogd.socket"];

async function hasDefaultNetwork(ctx: StepContext): Promise<boolean> {
  const r = await ctx.run([...VIRSH, "net-list", "--all", "--name"]);
  return r.stdout.split("\n").some((l) => l.trim() === "default");
}

export function libvirtStep(hosts: string[]): StepSpec {
  return {
    id: "libvirt",
    title: "libvirtd and virtlogd at boot and now; libvirt's autostart network `default` removed",
    on: "each",
    hosts,
    async check(ctx) {
      if ((await enabledOf(ctx.transport, LIBVIRT_ENABLED)).length < LIBVIRT_ENABLED.length) return false;
      if ((await inactiveOf(ctx.transport, LIBVIRT_SOCKETS)).length > 0) return false;
      return !(await hasDefaultNetwork(ctx));
    },
    async apply(ctx) {
      await systemctl(ctx.transport, "enable", LIBVIRT_ENABLED);
      if ((await inactiveOf(ctx.transport, LIBVIRT_SOCKETS)).length > 0)
        await startDeliberately(ctx.transport, "start", LIBVIRT_SOCKETS);
      if (await hasDefaultNetwork(ctx)) {
        // Not running when libvirt never started it: destroy may fail, undefine may not.
        await ctx.transport.exec([...VIRSH, "net-destroy", "default"]);
        await ctx.run([...VIRSH, "net-undefine", "default"]);
      }
    },
  };
}

/** A Ceph client whose key QEMU needs from libvirt: the secret's UUID and the key's secret name. */
export interface LibvirtCephSecret {
  client: "nova" | "cinder";
  uuid: string;
  key: string;
}

/**
 * client.nova's key for instance disks; with Cinder enabled, client.cinder's too: Cinder names
 * its user and its secret's UUID in every volume's connection info, and QEMU attaches the volume
 * with that key (Kolla-Ansible defines the same two secrets).
 */
export function libvirtCephSecrets(topology: Topology): LibvirtCephSecret[] {
  const out: LibvirtCephSecret[] = [{ client: "nova", uuid: rbdSecretUuid(topology), key: "ceph_nova_key" }];
  if (topology.openstack.enabled.includes("cinder"))
    out.push({ client: "cinder", uuid: volumeSecretUuid(topology), key: "ceph_cinder_key" });
  return out;
}

/** The secret's properties; private='no' so the check can read the value back (root only). */
export function secretXml(secret: Pick<LibvirtCephSecret, "client" | "uuid">): string {
  return [
    "<secret ephemeral='no' private='no'>",
    `  <uuid>${secret.uuid}</uuid>`,
    "  <usage type='ceph'>",
    `    <name>client.${secret.client} secret</name>`,
    "  </usage>",
    "</secret>",
    "",
  ].join("\n");
}

/** The Ceph key as the secret's value, base64 as `ceph auth get-key` prints it: what virsh prints back. */
function cephKey(ctx: StepContext, secret: LibvirtCephSecret): string {
  return ctx.secret(secret.key).trim();
}

/** The secrets libvirt lacks or holds another key in; values stay in this process, never logged. */
async function staleSecrets(ctx: StepContext, say = true): Promise<LibvirtCephSecret[]> {
  const stale: LibvirtCephSecret[] = [];
  for (const secret of libvirtCephSecrets(ctx.topology)) {
    const r = await ctx.transport.exec([...VIRSH, "secret-get-value", secret.uuid]);
    let why: string;
    if (r.code !== 0) why = `libvirt has no value for secret ${secret.uuid} (client.${secret.client})`;
    else if (r.stdout.trim() !== cephKey(ctx, secret))
      why = `libvirt secret ${secret.uuid} holds another key than client.${secret.client}'s`;
    else continue;
    if (say) ctx.log.info(why);
    stale.push(secret);
  }
  return stale;
}

export function libvirtSecretStep(hosts: string[]): StepSpec {
  return {
    id: "libvirt-secret",
    title:
      "Ceph keys in libvirt secrets: client.nova's (rbd_secret_uuid) and, with Cinder, client.cinder's (QEMU attaches RBD disks with them)",
    on: "each",
    hosts,
    async check(ctx) {
      return (await staleSecrets(ctx)).length === 0;
    },
    async apply(ctx) {
      // The check said which, and why.
      for (const secret of await staleSecrets(ctx, false)) {
        // Both on stdin: the XML names no secret, the key never reaches argv or a file.
        await ctx.run([...VIRSH, "secret-define", "--file", "/dev/stdin"], { stdin: secretXml(secret) });
        await ctx.run([...VIRSH, "secret-set-value", "--secret", secret.uuid, "--file", "/dev/stdin"], {
          stdin: cephKey(ctx, secret),
        });
      }
    },
  };
}

export function computeStartStep(hosts: string[]): StepSpec {
  const units = ["nova-compute.service"];
  return {
    id: "compute-start",
    title: "nova-compute at boot and now",
    on: "each",
    hosts,
    async check(ctx) {
      if ((await enabledOf(ctx.transport, units)).length < units.length) return false;
      return (await inactiveOf(ctx.transport, units)).length === 0;
    },
    async apply(ctx) {
      if ((await enabledOf(ctx.transport, units)).length < units.length)
        await systemctl(ctx.transport, "enable", units);
      await startDeliberately(ctx.transport, "start", units);
    },
  };
}

/** nova-compute registers itself, then its compute node once the resource tracker has run. */
export const DISCOVER_WAIT_MS = 300_000;

function apiInput(ctx: StepContext) {
  return { host: ctx.host.name, topology: ctx.topology, password: ctx.secret(secretNames("nova").identity) };
}

/** Computes whose nova-compute service nova does not list as up; [] when all are. */
export async function servicesNotUp(ctx: StepContext, computes: readonly string[]): Promise<string[]> {
  const exec = ctx.transport.exec.bind(ctx.transport);
  const { services } = await novaGet(exec, apiInput(ctx), "/os-services?binary=nova-compute", OsServiceList);
  return upHosts(computes, services, sameHost).missing.map((m) => `nova-compute on ${m}`);
}

/**
 * Computes nova does not list as an up hypervisor. Only meaningful once they are mapped to a
 * cell: the hypervisors API skips a compute node whose host has no host mapping (seen on the
 * lab: services up, hypervisor list empty until discover_hosts).
 */
export async function hypervisorsNotUp(ctx: StepContext, computes: readonly string[]): Promise<string[]> {
  const exec = ctx.transport.exec.bind(ctx.transport);
  const { hypervisors } = await novaGet(exec, apiInput(ctx), "/os-hypervisors", HypervisorList);
  return upHosts(
    computes,
    hypervisors.map((h) => ({ host: h.hypervisor_hostname, state: h.state })),
    sameHost,
  ).missing.map((m) => `hypervisor ${m}`);
}

async function unmapped(ctx: StepContext, computes: readonly string[]): Promise<string[]> {
  const mapped = await hostMappingsFromDb(ctx);
  return computes.filter((name) => !mapped.some((m) => sameHost(m.host, name)));
}

export function discoverStep(computes: string[]): StepSpec {
  return {
    id: "discover-hosts",
    title:
      "Map every compute nova lists as up to cell1 (nova-manage cell_v2 discover_hosts); nova-status upgrade check must pass (runbook E9)",
    on: "bootstrap",
    timeoutMs: DISCOVER_WAIT_MS + 300_000,
    async check(ctx) {
      if (computes.length === 0) return true;
      const missing = await unmapped(ctx, computes);
      if (missing.length > 0) ctx.log.info(`not mapped to a cell: ${missing.join(", ")}`);
      return missing.length === 0;
    },
    async apply(ctx) {
      await waitUntil(
        ctx,
        "see every nova-compute service up",
        async () => {
          const down = await servicesNotUp(ctx, computes);
          return down.length === 0 ? true : `not up: ${down.join(", ")}`;
        },
        { timeoutMs: DISCOVER_WAIT_MS, intervalMs: 5000 },
      );
      // Here only: schedulers never discover on their own (discover_hosts_in_cells_interval -1).
      // A service registers before its resource tracker writes the compute node that
      // discover_hosts maps, so it runs again until every compute is mapped.
      await waitUntil(
        ctx,
        "map every compute to cell1",
        async () => {
          const r = await ctx.run(novaManage("cell_v2", "discover_hosts", "--verbose"));
          ctx.log.info(lastLines(r.stdout, 3));
          const missing = await unmapped(ctx, computes);
          return missing.length === 0 ? true : `not mapped: ${missing.join(", ")}`;
        },
        { timeoutMs: DISCOVER_WAIT_MS, intervalMs: 10_000 },
      );
      await waitUntil(
        ctx,
        "see every compute as an up hypervisor",
        async () => {
          const down = await hypervisorsNotUp(ctx, computes);
          return down.length === 0 ? true : `not up: ${down.join(", ")}`;
        },
        { timeoutMs: DISCOVER_WAIT_MS, intervalMs: 5000 },
      );
      // 0 success, 1 warnings (a policy file...), 2 failure: Cells v2 sees computes without mappings.
      const status = await ctx.transport.exec(
        ["runuser", "-u", "nova", "--", "nova-status", "upgrade", "check"],
        {
          timeoutMs: 180_000,
        },
      );
      if (status.code !== 0 && status.code !== 1)
        throw new HastackError(
          "E_NOVA",
          `nova-status upgrade check failed on ${ctx.host.name} after discover_hosts: exit code ${status.code}: ${lastLines(status.stdout, 4)}`,
          { hint: "read `nova-status upgrade check` on that controller: each check says what it found" },
        );
    },
  };
}
