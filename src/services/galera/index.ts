import { vipFor } from "../../topology/types.ts";
import { controllerNames, controllers } from "../hosts.ts";
import type { ServiceDef } from "../types.ts";
import { BackupSettings } from "./backup-settings.ts";
import {
  CHECK_CREDENTIALS,
  CHECK_SCRIPT,
  checkerCredentials,
  checkerScript,
  checkerService,
} from "./checker.ts";
import { galeraConfig } from "./config.ts";
import { galeraDiagnostics } from "./diagnostics.ts";
import { galeraHealth } from "./health.ts";
import { checkGaleraSettings, GaleraSettings, galeraSettings } from "./settings.ts";
import { galeraSteps } from "./steps.ts";

export const galera: ServiceDef = {
  id: "galera",
  title: "MariaDB Galera cluster on the controllers",
  after: ["haproxy"],
  hosts: controllerNames,
  state: "implemented",
  // `services.backup`: the galera service owns it (Galera is what every backup takes; etcd,
  // RabbitMQ and the keys are parts beside it, src/ops/backup/extras-run.ts).
  settings: { galera: GaleraSettings, backup: BackupSettings },
  check: checkGaleraSettings,
  components: [
    {
      name: "mariadb",
      role: "controller",
      // python3-pymysql: the checker's one MariaDB connection.
      packages: ["mariadb-server", "mariadb-client", "galera-4", "mariadb-backup", "python3-pymysql"],
      units: ["mariadb.service", "galera-check.service"],
    },
  ],
  secrets: [
    { name: "db_root", kind: "password", description: "MariaDB root password (local socket logins only)" },
    { name: "galera_sst", kind: "password", description: "Galera SST user for mariabackup" },
    {
      name: "galera_check",
      kind: "password",
      description: "read-only MariaDB user of the HAProxy health checker",
    },
    {
      name: "db_probe",
      kind: "password",
      description: "MariaDB user hastack_probe of `hastack status` (rights on database hastack_probe only)",
    },
  ],
  files: (ctx, host) => [
    {
      path: "/etc/mysql/mariadb.conf.d/60-galera.cnf",
      owner: "root",
      group: "mysql",
      // wsrep_sst_auth holds a password.
      mode: 0o640,
      content: galeraConfig(ctx.topology, host, ctx.secret("galera_sst")),
      onChange: { restart: ["mariadb"] },
    },
    {
      path: CHECK_SCRIPT,
      owner: "root",
      group: "root",
      mode: 0o755,
      content: checkerScript(ctx.topology),
      onChange: { restart: ["galera-check"] },
    },
    {
      path: CHECK_CREDENTIALS,
      owner: "root",
      group: "root",
      mode: 0o600,
      content: checkerCredentials(ctx.secret("galera_check")),
    },
    {
      path: "/etc/systemd/system/galera-check.service",
      owner: "root",
      group: "root",
      mode: 0o644,
      content: checkerService(ctx.topology, host),
      onChange: { restart: ["galera-check"] },
    },
  ],
  frontends: (topology) => [
    {
      name: "galera",
      service: "galera",
      address: vipFor(topology, "galera"),
      port: 3306,
      mode: "tcp",
      balance: "first",
      check: { kind: "http-port", port: galeraSettings(topology).check_port, path: "/" },
      checkInter_ms: galeraSettings(topology).check_inter_ms,
      // One writer, the others standby: concurrent writers on several nodes hit certification
      // conflicts (deadlocks) that OpenStack services handle badly.
      backends: controllers(topology).map((h, i) => ({
        host: h.name,
        address: h.ip,
        port: 3306,
        backup: i > 0,
      })),
      options: ["tcpka"],
      // Long-lived pooled connections from the OpenStack services.
      timeouts: { client_s: 5400, server_s: 5400 },
      // Cut sessions of a node that is marked down, so clients reconnect to the new writer.
      serverOptions: ["on-marked-down shutdown-sessions"],
    },
  ],
  listens: (topology, host) => [
    { address: host.ip, port: 3306, proto: "tcp", owner: "galera" },
    { address: host.ip, port: 4567, proto: "tcp", owner: "galera replication" },
    { address: host.ip, port: 4568, proto: "tcp", owner: "galera IST" },
    { address: host.ip, port: 4444, proto: "tcp", owner: "galera SST" },
    { address: host.ip, port: galeraSettings(topology).check_port, proto: "tcp", owner: "galera checker" },
  ],
  health: galeraHealth,
  diagnostics: galeraDiagnostics,
  steps: () => galeraSteps(),
};
