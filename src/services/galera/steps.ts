import { globalStatus, sql, sqlString } from "../../hostkit/sql.ts";
import { isActive, isEnabled, show, systemctl } from "../../hostkit/systemd.ts";
import { tcpExchange } from "../../hostkit/tcp.ts";
import { HastackError } from "../../util/errors.ts";
import { controllers } from "../hosts.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { CHECK_UNIT, CHECK_USER, OLD_CHECKER_FILES } from "./checker.ts";
import { SST_USER } from "./config.ts";
import { PROBE_DB, PROBE_USER } from "./health.ts";
import { galeraSettings } from "./settings.ts";

const GRASTATE = "/var/lib/mysql/grastate.dat";

/** wsrep status of the local node, or undefined when MariaDB does not answer. */
function wsrep(t: StepContext["transport"]): Promise<Record<string, string> | undefined> {
  return globalStatus(t, [
    "wsrep_cluster_status",
    "wsrep_local_state_comment",
    "wsrep_cluster_size",
    "wsrep_ready",
  ]);
}

async function primaryNodes(ctx: StepContext): Promise<string[]> {
  const out: string[] = [];
  for (const h of controllers(ctx.topology)) {
    const s = await wsrep(ctx.peer(h.name)).catch(() => undefined);
    if (s?.wsrep_cluster_status === "Primary") out.push(h.name);
  }
  return out;
}

/**
 * galera_new_cluster only when no controller is in a Primary component (a running cluster is
 * joined, never re-bootstrapped) and this node's grastate.dat allows it: safe_to_bootstrap: 0
 * means another node may hold newer commits, and choosing that node is an operator's call.
 */
const bootstrap: StepSpec = {
  id: "bootstrap",
  title: "Bootstrap the cluster with galera_new_cluster (only with no Primary anywhere; safe_to_bootstrap)",
  on: "bootstrap",
  after: ["files"],
  timeoutMs: 300_000,
  async check(ctx) {
    return (await primaryNodes(ctx)).length > 0;
  },
  async apply(ctx) {
    if (await isActive(ctx.transport, "mariadb")) {
      throw new HastackError(
        "E_GALERA_BOOTSTRAP",
        `Cannot bootstrap galera on ${ctx.host.name}: MariaDB runs here but no controller is in a Primary component`,
        {
          hint: "a partitioned or half-started cluster: look at every node's wsrep status and grastate.dat before choosing a node to bootstrap",
        },
      );
    }
    const state = (await ctx.transport.readFile(GRASTATE))?.toString("utf8") ?? "";
    if (/^safe_to_bootstrap:\s*0/m.test(state)) {
      throw new HastackError(
        "E_GALERA_UNSAFE_BOOTSTRAP",
        `Cannot bootstrap galera on ${ctx.host.name}: ${GRASTATE} says safe_to_bootstrap: 0 (another node may hold newer commits)`,
        {
          hint: "find the node with the highest seqno (galera_recovery), bootstrap that one by hand, then deploy again",
        },
      );
    }
    await ctx.run(["galera_new_cluster"], { timeoutMs: 240_000 });
    ctx.log.info(`bootstrapped a new cluster on ${ctx.host.name}`);
  },
};

/** user@host as SQL, the management network as a netmask so only controllers can log in. */
function probeAccount(ctx: StepContext): string {
  const cidr = ctx.topology.networks.management?.cidr ?? `${ctx.host.ip}/32`;
  const [net = "", bits = "32"] = cidr.split("/");
  const mask = (0xffffffff << (32 - Number(bits))) >>> 0;
  const dotted = [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join(".");
  return `'${PROBE_USER}'@'${net}/${dotted}'`;
}

interface Account {
  account: string;
  secret: string;
  /** Extra SQL after the password is set. */
  grants: string[];
  /** A SQL boolean that is true when the grants are in place. */
  granted: string;
}

function accounts(ctx: StepContext): Account[] {
  const probe = probeAccount(ctx);
  return [
    {
      account: `'${SST_USER}'@'localhost'`,
      secret: "galera_sst",
      grants: [`GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO '${SST_USER}'@'localhost'`],
      granted: `(SELECT COUNT(*) FROM mysql.user WHERE User='${SST_USER}' AND Reload_priv='Y' AND Process_priv='Y' AND Lock_tables_priv='Y') = 1`,
    },
    { account: `'${CHECK_USER}'@'localhost'`, secret: "galera_check", grants: [], granted: "TRUE" },
    {
      account: probe,
      secret: "db_probe",
      // Rights on its own database only: the probe writes one row there and nothing else.
      grants: [
        `CREATE DATABASE IF NOT EXISTS ${PROBE_DB}`,
        `GRANT ALL PRIVILEGES ON ${PROBE_DB}.* TO ${probe}`,
      ],
      granted: `(SELECT COUNT(*) FROM mysql.db WHERE User='${PROBE_USER}' AND Db='${PROBE_DB}' AND Insert_priv='Y' AND Create_priv='Y') = 1 AND EXISTS (SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='${PROBE_DB}')`,
    },
  ];
}

/**
 * Where the users step's SQL runs: this node when it is in the Primary component, else the
 * first controller that is. Accounts replicate through Galera, so any Primary node will do, and
 * a bootstrap host reinstalled after its disk died joins only in the later join step (the
 * others' SST donors need these accounts first on a first deploy, so the order stays).
 */
async function primaryTransport(ctx: StepContext): Promise<StepContext["transport"]> {
  const own = await wsrep(ctx.transport).catch(() => undefined);
  if (own?.wsrep_cluster_status === "Primary") return ctx.transport;
  const [first] = await primaryNodes(ctx);
  return first ? ctx.peer(first) : ctx.transport;
}

/** One row of 0/1 per wanted fact; the SQL (with secrets) goes on stdin, never in argv. */
async function missingFacts(ctx: StepContext, t: StepContext["transport"]): Promise<string[]> {
  const facts: [string, string][] = [
    [
      "root password",
      `(SELECT COUNT(*) FROM mysql.global_priv WHERE User='root' AND Host='localhost' AND Priv LIKE CONCAT('%', PASSWORD(${sqlString(ctx.secret("db_root"))}), '%')) = 1`,
    ],
    ["no anonymous users", "(SELECT COUNT(*) FROM mysql.user WHERE User='') = 0"],
  ];
  for (const a of accounts(ctx)) {
    const [user, host] = a.account.split("@").map((p) => p.replace(/'/g, "")) as [string, string];
    facts.push([
      `${a.account} password`,
      `(SELECT COUNT(*) FROM mysql.user WHERE User='${user}' AND Host='${host}' AND authentication_string = PASSWORD(${sqlString(ctx.secret(a.secret))})) = 1`,
    ]);
    facts.push([`${a.account} grants`, a.granted]);
  }
  const [values = []] = await sql(t, `SELECT ${facts.map(([, expr]) => `IF(${expr}, 1, 0)`).join(", ")}`);
  return facts.filter((_, i) => values[i] !== "1").map(([name]) => name);
}

const users: StepSpec = {
  id: "users",
  title: "Set the root password; create the SST, checker and probe users (probe DB); drop anonymous users",
  on: "bootstrap",
  after: ["bootstrap"],
  async check(ctx) {
    const missing = await missingFacts(ctx, await primaryTransport(ctx));
    if (missing.length > 0 && ctx.dryRun) ctx.log.info(`would fix: ${missing.join(", ")}`);
    return missing.length === 0;
  },
  async apply(ctx) {
    const t = await primaryTransport(ctx);
    const anonymous = await sql(t, "SELECT Host FROM mysql.user WHERE User=''");
    const statements = [
      // The OS root keeps its socket login (the deploy's own sessions); the password is for the rest.
      `ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(${sqlString(ctx.secret("db_root"))})`,
      ...anonymous.map(([h = ""]) => `DROP USER IF EXISTS ''@${sqlString(h.trim())}`),
    ];
    for (const a of accounts(ctx)) {
      const password = sqlString(ctx.secret(a.secret));
      statements.push(
        `CREATE USER IF NOT EXISTS ${a.account} IDENTIFIED VIA mysql_native_password USING PASSWORD(${password})`,
        `ALTER USER ${a.account} IDENTIFIED VIA mysql_native_password USING PASSWORD(${password})`,
        ...a.grants,
      );
    }
    await sql(t, statements.join(";\n"), { signal: ctx.signal });
  },
};

async function synced(t: StepContext["transport"]): Promise<true | string> {
  const s = await wsrep(t);
  if (!s) return "MariaDB does not answer";
  if (s.wsrep_cluster_status !== "Primary") return `not in a Primary component (${s.wsrep_cluster_status})`;
  if (s.wsrep_local_state_comment !== "Synced") return `state ${s.wsrep_local_state_comment}`;
  return s.wsrep_ready === "ON" ? true : "wsrep_ready OFF";
}

/**
 * One node at a time, each waiting for Synced, so a joiner always finds a synced donor. MariaDB
 * starts at boot: a rebooted (or fenced) controller rejoins by IST on its own, and a node that
 * finds no Primary component refuses to start rather than forming a cluster of its own.
 */
const join: StepSpec = {
  id: "join",
  title: "Start MariaDB (enabled at boot) and wait for Synced, one node at a time",
  on: "serial",
  after: ["users"],
  timeoutMs: 900_000,
  async check(ctx) {
    return (await isEnabled(ctx.transport, "mariadb")) && (await synced(ctx.transport)) === true;
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "enable", ["mariadb"]);
    if (!(await isActive(ctx.transport, "mariadb")))
      await systemctl(ctx.transport, "start", ["mariadb"], { timeoutMs: 600_000, signal: ctx.signal });
    await waitUntil(ctx, "join galera", () => synced(ctx.transport), {
      timeoutMs: 600_000,
      intervalMs: 1000,
    });
  },
};

/** The checker's answer over TCP, as HAProxy asks it. */
async function checkerAnswers(ctx: StepContext): Promise<true | string> {
  const port = galeraSettings(ctx.topology).check_port;
  const r = await tcpExchange(ctx.transport, ctx.host.ip, port, "GET / HTTP/1.0\r\n\r\n", {
    replySeconds: 5,
  });
  const status = r.reply.split("\n")[0]?.trim() ?? "";
  return status.startsWith("HTTP/1.1 200") ? true : `checker says ${status || r.error || "nothing"}`;
}

const checker: StepSpec = {
  id: "checker",
  title: "Start the galera checker (one process); expect HTTP 200 from this node's checker",
  on: "each",
  after: ["join"],
  async check(ctx) {
    const p = await show(ctx.transport, CHECK_UNIT, ["NeedDaemonReload", "ActiveState", "UnitFileState"]);
    if (p.NeedDaemonReload === "yes" || p.ActiveState !== "active" || p.UnitFileState !== "enabled")
      return false;
    const old = await ctx.transport.stat(OLD_CHECKER_FILES);
    if (OLD_CHECKER_FILES.some((f) => old.get(f))) return false;
    return (await checkerAnswers(ctx)) === true;
  },
  async apply(ctx) {
    // The per-connection checker of earlier versions holds port 9200: stop it and remove it.
    const old = await ctx.transport.stat(OLD_CHECKER_FILES);
    if (OLD_CHECKER_FILES.some((f) => old.get(f))) {
      await systemctl(ctx.transport, "disable", ["galera-check.socket"], { now: true });
      await ctx.run(["rm", "-f", ...OLD_CHECKER_FILES]);
    }
    // The files step writes unit files; systemd reads them only after a daemon-reload.
    await systemctl(ctx.transport, "daemon-reload", []);
    await systemctl(ctx.transport, "enable", [CHECK_UNIT]);
    await systemctl(ctx.transport, "restart", [CHECK_UNIT]);
    await waitUntil(ctx, "get HTTP 200 from the galera checker", () => checkerAnswers(ctx), {
      timeoutMs: 30_000,
    });
  },
};

export function galeraSteps(): StepSpec[] {
  return [
    { id: "files", title: "Write galera.cnf, the checker and its units", on: "each" },
    bootstrap,
    users,
    join,
    checker,
  ];
}
