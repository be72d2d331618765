import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDef } from "../services/types.ts";
import { SshTransport } from "../transport/ssh-transport.ts";
import { type Sshd, startSshd } from "../transport/sshd-fixture.ts";
import type { Transport } from "../transport/types.ts";
import { command } from "./actions.ts";
import { deploy } from "./deploy.ts";
import type { DeployEvent } from "./events.ts";
import type { Reporter } from "./reporter.ts";
import { renderFor, testTopology } from "./test-fixtures.ts";

const HOSTS = ["ctl1", "ctl2", "ctl3"];
const FILES = 20;
let sshd: Sshd;
const dir = mkdtempSync(join(tmpdir(), "hastack-deploy-ssh-"));
const knownHosts = join(dir, "known_hosts");

beforeAll(async () => {
  sshd = await startSshd();
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
});
afterAll(async () => {
  await sshd?.stop();
});

/** Three inventory hosts that are all the loopback sshd; each deploys under its own directory. */
function transports(knownHostsPath: string): Map<string, Transport> {
  return new Map(
    HOSTS.map((name) => [
      name,
      new SshTransport({
        name,
        address: "127.0.0.1",
        port: sshd.port,
        user: userInfo().username,
        privateKeyPath: sshd.clientKeyPath,
        knownHostsPath,
      }),
    ]),
  );
}

const state = { value: "1" };
const svc: ServiceDef = {
  id: "app",
  state: "implemented",
  title: "app",
  hosts: () => HOSTS,
  files: (ctx, host) =>
    Array.from({ length: FILES }, (_, i) => ({
      path: join(dir, host.name, `conf.d/${String(i).padStart(2, "0")}.conf`),
      owner: "root",
      group: "root",
      mode: 0o640,
      content: `# file ${i} on ${host.name}\nvalue = ${i === 0 ? state.value : "fixed"}\ntoken = ${ctx.secret("app_token")}\n`,
    })),
  steps: () => [
    command({ id: "marker", title: "marker", on: "bootstrap" }, ["touch", join(dir, "bootstrapped")], {
      creates: join(dir, "bootstrapped"),
    }),
  ],
};

function collect(): Reporter & { events: DeployEvent[] } {
  const events: DeployEvent[] = [];
  return { events, emit: (e) => events.push(e), close: async () => {} };
}

async function run(knownHostsPath = knownHosts, dryRun = false) {
  const topology = testTopology(dir, HOSTS);
  const t = transports(knownHostsPath);
  const reporter = collect();
  const started = performance.now();
  try {
    const result = await deploy(
      {
        topology,
        services: [svc],
        files: renderFor([svc], topology),
        secrets: { app_token: "tok-0123456789abcdef" },
        transports: t,
        inventoryPath: topology.source,
      },
      { reporter, dryRun },
    );
    return { ...result, ms: performance.now() - started, reporter };
  } finally {
    await Promise.all([...t.values()].map((x) => x.close()));
  }
}

describe("deploy over SSH to a loopback sshd", () => {
  it("deploys, re-deploys with 0 changed, and dry-runs a one-line change", async () => {
    const first = await run();
    expect(first.status).toBe("ok");
    expect(readFileSync(join(dir, "ctl2/conf.d/00.conf"), "utf8")).toContain("token = tok-0123456789abcdef");
    const noop = await run();
    expect(noop.counts).toMatchObject({ changed: 0, failed: 0 });
    state.value = "2";
    const dry = await run(knownHosts, true);
    const diffs = dry.reporter.events.filter((e) => e.type === "file-diff");
    expect(diffs.map((d) => (d as { host: string }).host).sort()).toEqual(HOSTS);
    expect((diffs[0] as { diff: string }).diff).toContain(
      "-value = 1\n+value = 2\n token = <secret:app_token>",
    );
    expect(readFileSync(join(dir, "ctl2/conf.d/00.conf"), "utf8")).toContain("value = 1");
    const apply = await run();
    expect(apply.counts.changed).toBe(HOSTS.length);
    process.stdout.write(
      `[timing] ${HOSTS.length} hosts x ${FILES} files over loopback SSH: first deploy ${first.ms.toFixed(0)} ms, ` +
        `no-op re-deploy ${noop.ms.toFixed(0)} ms, dry run ${dry.ms.toFixed(0)} ms, one-file change ${apply.ms.toFixed(0)} ms\n`,
    );
  });

  it("refuses to start when a host key changed, before touching anything", async () => {
    const wrong = join(dir, "wrong_known_hosts");
    writeFileSync(wrong, `${sshd.wrongKnownHostsLine}\n`);
    state.value = "3";
    const error = await run(wrong).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_HOSTKEY_MISMATCH" });
    expect(String((error as Error).message)).toMatch(/host key changed: expected ssh-ed25519 SHA256:/);
    expect(readFileSync(join(dir, "ctl1/conf.d/00.conf"), "utf8")).toContain("value = 2");
  });
});
