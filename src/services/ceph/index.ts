import type { FileSpec, ServiceDef } from "../types.ts";
import { cephConf, keyring } from "./conf.ts";
import { cephHealth } from "./health.ts";
import {
  ADMIN_CAPS,
  ADMIN_KEYRING,
  BACKUP_CLIENT,
  BOOTSTRAP_OSD_CAPS,
  BOOTSTRAP_OSD_KEYRING,
  CLIENTS,
  cephHostNames,
  clientCaps,
  clientHosts,
  clientKeyring,
  FENCE_CLIENT,
  keyringGroup,
  monHosts,
  osdHosts,
  publicAddress,
} from "./layout.ts";
import { CephSettings, checkCephSettings, MON_V1_PORT, MON_V2_PORT } from "./settings.ts";
import { cephSteps } from "./steps.ts";

const DAEMON_UNITS = ["ceph.target", "ceph-mon.target", "ceph-mgr.target", "ceph-osd.target"];

export const ceph: ServiceDef = {
  id: "ceph",
  title: "Ceph on the storage hosts: monitors, managers, BlueStore OSDs, RBD pools for OpenStack",
  state: "implemented",
  after: ["host-prep"],
  settings: { ceph: CephSettings },
  check: checkCephSettings,
  components: [
    {
      name: "ceph-daemons",
      role: "storage",
      packages: ["ceph-mon", "ceph-mgr", "ceph-osd", "ceph-volume", "ceph-common"],
      units: [...DAEMON_UNITS, "ceph-mon@.service", "ceph-mgr@.service", "ceph-osd@.service"],
    },
    {
      name: "ceph-client",
      role: "controller",
      packages: ["ceph-common", "python3-rbd", "python3-rados"],
      units: [],
    },
    {
      name: "ceph-client",
      role: "compute",
      packages: ["ceph-common", "python3-rbd", "qemu-block-extra"],
      units: [],
    },
  ],
  hosts: cephHostNames,
  // Monitors on the controllers (services.ceph.mons: controller) need the daemons there too.
  packages: (topology, host) =>
    host.roles.includes("controller") && monHosts(topology).some((h) => h.name === host.name)
      ? ["ceph-mon", "ceph-mgr"]
      : [],
  secrets: [
    {
      name: "ceph_mon_key",
      kind: "cephx-key",
      description: "Ceph mon. key (monitors authenticate each other)",
    },
    { name: "ceph_admin_key", kind: "cephx-key", description: "Ceph client.admin key (monitor hosts only)" },
    {
      name: "ceph_bootstrap_osd_key",
      kind: "cephx-key",
      description: "Ceph client.bootstrap-osd key: may only register new OSDs (OSD hosts only)",
    },
    {
      name: FENCE_CLIENT.secret,
      kind: "cephx-key",
      description: "Ceph client.hastack-ha key: the instance-HA engine's storage fence (osd blocklist only)",
    },
    {
      name: BACKUP_CLIENT.secret,
      kind: "cephx-key",
      description: "Ceph client.hastack-backup key: `hastack backup` (pool hastack-backups only)",
    },
    ...CLIENTS.map((c) => ({
      name: c.secret,
      kind: "cephx-key" as const,
      description: `Ceph client.${c.name} key: RBD on ${Object.keys(c.pools).join(", ")} only`,
    })),
  ],
  files: (ctx, host): FileSpec[] => {
    const t = ctx.topology;
    const secretFile = (
      path: string,
      entity: string,
      secret: string,
      caps: Record<string, string>,
      group?: string,
    ): FileSpec => ({
      path,
      owner: "root",
      // Readable by the service's group when it has one (never by others: it is a key).
      group: group ?? "root",
      mode: group ? 0o640 : 0o600,
      content: keyring(entity, ctx.secret(secret), caps),
    });
    const out: FileSpec[] = [
      { path: "/etc/ceph/ceph.conf", owner: "root", group: "root", mode: 0o644, content: cephConf(t) },
    ];
    if (monHosts(t).some((h) => h.name === host.name))
      out.push(secretFile(ADMIN_KEYRING, "client.admin", "ceph_admin_key", ADMIN_CAPS));
    if (osdHosts(t).some((h) => h.name === host.name))
      out.push(
        secretFile(
          BOOTSTRAP_OSD_KEYRING,
          "client.bootstrap-osd",
          "ceph_bootstrap_osd_key",
          BOOTSTRAP_OSD_CAPS,
        ),
      );
    // The instance-HA engine may run on any controller (Pacemaker picks one).
    if (host.roles.includes("controller"))
      out.push(secretFile(FENCE_CLIENT.keyring, FENCE_CLIENT.name, FENCE_CLIENT.secret, FENCE_CLIENT.caps));
    // `hastack backup` stores from, and restores on, whichever controller it picks.
    if (host.roles.includes("controller"))
      out.push(
        secretFile(BACKUP_CLIENT.keyring, BACKUP_CLIENT.name, BACKUP_CLIENT.secret, BACKUP_CLIENT.caps),
      );
    for (const c of CLIENTS) {
      if (clientHosts(t, c).includes(host.name))
        out.push(
          secretFile(
            clientKeyring(c.name),
            `client.${c.name}`,
            c.secret,
            clientCaps(c),
            keyringGroup(c, ctx.services),
          ),
        );
    }
    return out;
  },
  listens: (topology, host) =>
    monHosts(topology).some((h) => h.name === host.name)
      ? [
          {
            address: publicAddress(topology, host),
            port: MON_V2_PORT,
            proto: "tcp",
            owner: "ceph-mon (msgr2)",
          },
          {
            address: publicAddress(topology, host),
            port: MON_V1_PORT,
            proto: "tcp",
            owner: "ceph-mon (msgr1)",
          },
        ]
      : [],
  steps: (topology) => cephSteps(topology),
  health: cephHealth,
};
