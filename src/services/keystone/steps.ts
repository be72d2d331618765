/**
 * @module
 * Keystone's own deploy steps, after the shared database step: the schema (once, on the
 * bootstrap controller, gated by its version), the key repositories (every controller, derived
 * from the secrets), uwsgi started and answering, `keystone-manage bootstrap` (admin, region,
 * identity endpoints on the VIP), the demo project and user, and the openrc files.
 */
import { ensureRunning, isActive, isEnabled } from "../../hostkit/systemd.ts";
import type { Topology } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { KEYSTONE_ADMIN_SECRET, missingFor, registerInKeystone } from "../openstack/identity-step.ts";
import type { IdentityPlan } from "../openstack/keystone-check.ts";
import { rememberedSchemaCheck } from "../openstack/schema-memo.ts";
import { waitUntil } from "../step-kit.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { KEYSTONE_CONF, MANAGE_CONF } from "./config.ts";
import {
  CREDENTIAL_DIR,
  CREDENTIAL_MAX_ACTIVE_KEYS,
  CREDENTIAL_SECRET,
  FERNET_DIR,
  FERNET_MAX_ACTIVE_KEYS,
  FERNET_SECRET,
  parseKeySecret,
  primaryOf,
  repository,
} from "./fernet.ts";
import { inSync, readRepo, writeRepo } from "./key-repo.ts";
import { KEYSTONE_DEMO_SECRET, openrcFiles, openrcInSync, writeOpenrc } from "./openrc.ts";
import { login } from "./token.ts";

export const KEYSTONE_UNIT = "keystone.service";

/**
 * keystone-manage as the keystone user: run as root it would create root-owned logs uwsgi cannot
 * open. It reads MANAGE_CONF after keystone.conf: a migration is not bounded by the daemon's SQL
 * timeouts.
 */
export function manage(args: string[]): string[] {
  return [
    "runuser",
    "-u",
    "keystone",
    "--",
    "keystone-manage",
    "--config-file",
    KEYSTONE_CONF,
    "--config-file",
    MANAGE_CONF,
    ...args,
  ];
}

/** `db_sync --check`: 0 up to date; 2 expand, 4 contract needed; 1 an error (the apply then says which). */
export const dbSync: StepSpec = {
  id: "db-sync",
  title: "keystone-manage db_sync on one controller, when the schema version is behind",
  on: "bootstrap",
  after: ["database"],
  timeoutMs: 600_000,
  async check(ctx) {
    const state = await rememberedSchemaCheck(
      ctx,
      { package: "python3-keystone", databases: ["keystone"] },
      async () => {
        const r = await ctx.transport.exec(manage(["db_sync", "--check"]), { timeoutMs: 120_000 });
        if (r.code === 0) return true;
        return r.code === 2 || r.code === 4 ? "behind" : `db_sync --check exit code ${r.code}`;
      },
    );
    if (state !== true) ctx.log.info(`schema: ${state}`);
    return state === true;
  },
  async apply(ctx) {
    await ctx.run(manage(["db_sync"]), { timeoutMs: 540_000 });
  },
};

/** Both repositories as the secrets define them; credential keys stay at generation 1 (never rotated). */
function repos(ctx: StepContext) {
  const fernet = parseKeySecret(FERNET_SECRET, ctx.secret(FERNET_SECRET));
  const credential = { ...parseKeySecret(CREDENTIAL_SECRET, ctx.secret(CREDENTIAL_SECRET)), generation: 1 };
  return [
    { dir: FERNET_DIR, state: fernet, wanted: repository(fernet, FERNET_MAX_ACTIVE_KEYS) },
    { dir: CREDENTIAL_DIR, state: credential, wanted: repository(credential, CREDENTIAL_MAX_ACTIVE_KEYS) },
  ];
}

export const keys: StepSpec = {
  id: "keys",
  title: "Fernet and credential key repositories from the secrets, identical on every controller",
  on: "each",
  after: ["db-sync"],
  async check(ctx) {
    for (const repo of repos(ctx)) {
      const state = await readRepo(ctx.transport, repo.dir);
      const primary = primaryOf(state.files.keys()) ?? 0;
      // An older secrets file would take back keys that tokens in use were made with.
      if (repo.dir === FERNET_DIR && primary > repo.state.generation)
        throw new HastackError(
          "E_KEYSTONE_KEYS",
          `Cannot write the Fernet keys on ${ctx.host.name}: it is at generation ${primary}, the secrets file at ${repo.state.generation}`,
          {
            hint: "restore the current secrets file; to replace every key on purpose (every token becomes invalid), empty /etc/keystone/fernet-keys on every controller first",
          },
        );
      if (!inSync(state, repo.wanted)) return false;
    }
    return true;
  },
  async apply(ctx) {
    for (const repo of repos(ctx)) {
      const { written, removed } = await writeRepo(ctx.transport, repo.dir, repo.wanted);
      if (written.length + removed.length > 0)
        ctx.log.info(`${repo.dir}: wrote ${written.join(" ") || "-"}, removed ${removed.join(" ") || "-"}`);
    }
  },
};

async function answers(ctx: StepContext): Promise<true | string> {
  const url = `http://${ctx.host.ip}:${ctx.topology.endpoints.keystone?.port ?? 5000}/v3`;
  const r = await ctx.transport.exec([
    "curl",
    "-sS",
    "-o",
    "/dev/null",
    "--max-time",
    "5",
    "-w",
    "%{http_code}",
    url,
  ]);
  return r.code === 0 && r.stdout.trim() === "200" ? true : `${url}: ${r.stdout.trim() || r.stderr.trim()}`;
}

export const start: StepSpec = {
  id: "start",
  title: "Start keystone (uwsgi on the management address) at boot and now; wait until it answers",
  on: "each",
  after: ["keys"],
  async check(ctx) {
    return (
      (await isEnabled(ctx.transport, KEYSTONE_UNIT)) &&
      (await isActive(ctx.transport, KEYSTONE_UNIT)) &&
      (await answers(ctx)) === true
    );
  },
  async apply(ctx) {
    await ensureRunning(ctx.transport, [KEYSTONE_UNIT]);
    await waitUntil(ctx, "get an answer from keystone", () => answers(ctx), { timeoutMs: 120_000 });
  },
};

function adminLogin(ctx: StepContext) {
  const ks = keystoneEndpoint(ctx.topology);
  return login((c, o) => ctx.transport.exec(c, o), {
    authUrl: ks.internal,
    user: "admin",
    password: ctx.secret(KEYSTONE_ADMIN_SECRET),
    project: "admin",
  });
}

export function keystoneEndpoint(topology: Topology) {
  const ks = topology.endpoints.keystone;
  if (!ks)
    throw new HastackError("E_OPENSTACK_SPEC", "Cannot deploy keystone: it has no endpoint in the catalogue");
  return ks;
}

/** What the bootstrap must have made, through the VIP: an admin login, and the identity endpoints. */
async function bootstrapped(ctx: StepContext): Promise<true | string> {
  const ks = keystoneEndpoint(ctx.topology);
  const r = await adminLogin(ctx);
  if (!r.ok) return `admin login at ${ks.internal}: ${r.reason}`;
  const identity = r.catalog.find((c) => c.name === "keystone" && c.type === "identity");
  const want = { public: ks.public, internal: ks.internal, admin: ks.internal };
  const wrong = Object.entries(want).filter(
    ([i, url]) =>
      !identity?.endpoints.some(
        (e) => e.interface === i && e.url === url && e.region_id === ctx.topology.openstack.region,
      ),
  );
  return wrong.length === 0
    ? true
    : `identity endpoints not as wanted: ${wrong.map(([i, u]) => `${i} ${u}`).join(", ")}`;
}

export const bootstrap: StepSpec = {
  id: "bootstrap",
  title: "keystone-manage bootstrap: admin project, user and role, region, identity endpoints on the VIP",
  on: "bootstrap",
  after: ["start"],
  async check(ctx) {
    const state = await bootstrapped(ctx);
    if (state !== true) ctx.log.info(state);
    return state === true;
  },
  async apply(ctx) {
    const ks = keystoneEndpoint(ctx.topology);
    const args = [
      "bootstrap",
      "--bootstrap-username",
      "admin",
      "--bootstrap-project-name",
      "admin",
      "--bootstrap-role-name",
      "admin",
      "--bootstrap-service-name",
      "keystone",
      "--bootstrap-region-id",
      ctx.topology.openstack.region,
      "--bootstrap-admin-url",
      ks.internal,
      "--bootstrap-internal-url",
      ks.internal,
      "--bootstrap-public-url",
      ks.public,
    ];
    // The password reaches keystone-manage in its environment (OS_BOOTSTRAP_PASSWORD), read from stdin.
    await ctx.run(
      [
        "sh",
        "-c",
        `read -r OS_BOOTSTRAP_PASSWORD && export OS_BOOTSTRAP_PASSWORD && exec "$@"`,
        "sh",
        ...manage(args),
      ],
      { stdin: `${ctx.secret(KEYSTONE_ADMIN_SECRET)}\n`, timeoutMs: 300_000 },
    );
    // Through the VIP: HAProxy must have seen the backends answer.
    await waitUntil(ctx, "log in as admin through the VIP", () => bootstrapped(ctx), { timeoutMs: 120_000 });
  },
};

/** The demo project and user: a plan like a service user's, without a catalogue entry. */
function demoPlan(topology: Topology): IdentityPlan {
  return {
    authUrl: keystoneEndpoint(topology).internal,
    region: topology.openstack.region,
    domain: "Default",
    project: "demo",
    projectDescription: "Demo project",
    user: "demo",
    defaultProject: true,
    roles: ["member"],
    endpoints: [],
  };
}

export const demoStep: StepSpec = {
  id: "demo",
  title: "Demo project and user (member role) for a first login that is not admin",
  on: "bootstrap",
  after: ["bootstrap"],
  async check(ctx) {
    const missing = await missingFor(ctx, demoPlan(ctx.topology), KEYSTONE_DEMO_SECRET);
    if (missing.length > 0)
      ctx.log.info(`${ctx.dryRun ? "would create" : "creating"}: ${missing.join(", ")}`);
    return missing.length === 0;
  },
  async apply(ctx) {
    await registerInKeystone(ctx, demoPlan(ctx.topology), KEYSTONE_DEMO_SECRET);
  },
};

export const openrc: StepSpec = {
  id: "openrc",
  title: "admin-openrc.sh and demo-openrc.sh (0600) beside the inventory",
  on: "bootstrap",
  after: ["demo"],
  async check(ctx) {
    return openrcInSync(openrcFiles(ctx));
  },
  async apply(ctx) {
    const written = await writeOpenrc(openrcFiles(ctx));
    ctx.log.info(`wrote ${written.join(", ")}`);
  },
};

export const keystoneSteps: StepSpec[] = [dbSync, keys, start, bootstrap, demoStep, openrc];
