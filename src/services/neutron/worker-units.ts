/**
 * @module
 * The two server daemons Debian 13 ships as programs (python3-neutron's console scripts) but not
 * as units: since 2025.1 the API runs only under uwsgi, and the periodic tasks and ML2/OVN's
 * maintenance (the Neutron/OVN database consistency check, OVN hash ring upkeep) left the API
 * process for these two. Without the maintenance worker, a port created while an OVN database
 * was leaderless stays unsynchronised for good. hastack writes their units.
 */
import type { FileSpec } from "../types.ts";
import { ML2_CONF, NEUTRON_CONF } from "./config.ts";

export const WORKER_UNITS = ["neutron-periodic-workers.service", "neutron-ovn-maintenance-worker.service"];

function workerUnit(program: string, description: string): string {
  return [
    "# Written by hastack: Debian 13 ships the program but no unit.",
    "[Unit]",
    `Description=${description}`,
    // Debian's own neutron units order themselves after the same services.
    "After=network-online.target mariadb.service rabbitmq-server.service",
    "",
    "[Service]",
    "User=neutron",
    "Group=neutron",
    "WorkingDirectory=/var/lib/neutron",
    `ExecStart=/usr/bin/${program} --config-file=${NEUTRON_CONF} --config-file=${ML2_CONF} --log-file=/var/log/neutron/${program}.log`,
    "Restart=on-failure",
    "RestartSec=2",
    "LimitNOFILE=65535",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The unit files of both workers, for the controllers. */
export function workerUnitFiles(): FileSpec[] {
  const units: Array<[string, string]> = [
    ["neutron-periodic-workers", "OpenStack Neutron periodic workers"],
    ["neutron-ovn-maintenance-worker", "OpenStack Neutron ML2/OVN maintenance worker"],
  ];
  return units.map(([program, description]) => ({
    path: `/etc/systemd/system/${program}.service`,
    owner: "root",
    group: "root",
    mode: 0o644,
    content: workerUnit(program, description),
    onChange: { restart: [program] },
  }));
}
