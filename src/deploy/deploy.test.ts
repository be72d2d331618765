import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ServiceDef, StepSpec } from "../services/types.ts";
import { HastackError } from "../util/errors.ts";
import { command } from "./actions.ts";
import { type DeployOptions, deploy } from "./deploy.ts";
import type { DeployEvent } from "./events.ts";
import { plainReporter, type Reporter } from "./reporter.ts";
import type { UnitControl } from "./restarts.ts";
import { localHosts, renderFor, testTopology } from "./test-fixtures.ts";

const owner = userInfo().username;
const group = execFileSync("id", ["-gn"]).toString().trim();
const SECRET = "s3cr3t-value-0123456789";

/** Collects events and the plain text a person would see. */
function capture(): Reporter & { events: DeployEvent[]; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const plain = plainReporter(out);
  const events: DeployEvent[] = [];
  return {
    events,
    text: () => chunks.join(""),
    emit(e) {
      events.push(e);
      plain.emit(e);
    },
    close: async () => {},
  };
}

/** "Units" are marker files: active-<unit> means running; restarts are logged, not done. */
const units: UnitControl = {
  isActive: (u) => ["sh", "-c", 'test -e "$HASTACK_ROOT/active-$1"', "sh", u],
  restart: (u) => ["sh", "-c", 'echo "restart $1" >> "$HASTACK_ROOT/units.log"', "sh", u],
  reload: (u) => ["sh", "-c", 'echo "reload $1" >> "$HASTACK_ROOT/units.log"', "sh", u],
  daemonReload: () => ["sh", "-c", 'echo "daemon-reload" >> "$HASTACK_ROOT/daemon.log"'],
};

function appendStep(id: string, extra: Partial<StepSpec> = {}): StepSpec {
  // No check: it applies on every run, so a repeat shows up as a second line in the log.
  return {
    id,
    title: `log ${id}`,
    on: "each",
    apply: async (ctx) => {
      await ctx.run(["sh", "-c", `echo ${id} >> "$HASTACK_ROOT/steps.log"`]);
    },
    ...extra,
  };
}

function setup(opts: { hosts?: string[]; web?: string; extraSteps?: StepSpec[] } = {}) {
  const names = opts.hosts ?? ["ctl1", "ctl2", "ctl3"];
  const lh = localHosts(names);
  const topology = testTopology(lh.dir, names);
  const state = { web: opts.web ?? "port = 80", unit: "[Service]\nExecStart=/usr/bin/web\n" };
  const svc: ServiceDef = {
    id: "web",
    state: "implemented",
    title: "web",
    hosts: () => names,
    files: (ctx, host) => [
      {
        path: "/etc/web/web.conf",
        owner,
        group,
        mode: 0o640,
        content: `# ${host.name}\n${state.web}\npassword = ${ctx.secret("web_password")}\n`,
        onChange: { restart: ["web"] },
      },
      {
        path: "/etc/systemd/system/web.service",
        owner,
        group,
        mode: 0o644,
        content: state.unit,
        onChange: { restart: ["web"] },
      },
      {
        path: "/etc/web/extra.conf",
        owner,
        group,
        mode: 0o644,
        content: "extra\n",
        onChange: { reload: ["web-extra"] },
      },
    ],
    steps: () => [
      command(
        { id: "setup", title: "create data dir", on: "each" },
        ["sh", "-c", 'mkdir "$HASTACK_ROOT/data"'],
        {
          unless: ["sh", "-c", 'test -d "$HASTACK_ROOT/data"'],
        },
      ),
      ...(opts.extraSteps ?? []),
    ],
  };
  const input = () => ({
    topology,
    services: [svc],
    files: renderFor([svc], topology),
    secrets: { web_password: SECRET },
    transports: lh.transports,
    inventoryPath: topology.source,
  });
  const run = async (o: Partial<DeployOptions> = {}) => {
    const reporter = capture();
    const result = await deploy(input(), { reporter, units, ...o });
    return { ...result, reporter };
  };
  return { ...lh, topology, state, run };
}

describe("deploy engine on local hosts", () => {
  it("deploys, then a re-run changes nothing and says 0 changed", async () => {
    const t = setup();
    const first = await t.run();
    expect(first.status).toBe("ok");
    expect(first.counts.changed).toBeGreaterThan(0);
    const conf = join(t.roots.get("ctl2") ?? "", "etc/web/web.conf");
    expect(readFileSync(conf, "utf8")).toBe(`# ctl2\nport = 80\npassword = ${SECRET}\n`);
    expect(statSync(conf).mode & 0o777).toBe(0o640);
    expect(existsSync(join(t.roots.get("ctl3") ?? "", "data"))).toBe(true);

    const again = await t.run();
    expect(again.counts).toMatchObject({ changed: 0, failed: 0 });
    expect(again.reporter.text()).toMatch(/^0 changed, \d+ ok, 0 failed in /m);
    // The journal records every step of the run.
    const lines = readFileSync(again.journal ?? "", "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "step-end").every((l) => l.status === "ok")).toBe(true);
  });

  it("names host, step, command, exit code and stderr on failure; --resume finishes without redoing", async () => {
    const flaky: StepSpec = {
      id: "flaky",
      title: "fails on ctl2 while a flag exists",
      on: "each",
      apply: async (ctx) => {
        await ctx.run([
          "sh",
          "-c",
          'if [ -e "$HASTACK_ROOT/../../fail-$0" ]; then echo "disk on fire" >&2; exit 3; fi',
          ctx.host.name,
        ]);
      },
    };
    const t = setup({ extraSteps: [appendStep("before"), flaky, appendStep("after")] });
    writeFileSync(join(t.dir, "fail-ctl2"), "");
    const failed = await t.run();
    expect(failed.status).toBe("failed");
    const end = failed.reporter.events.find((e) => e.type === "step-end" && e.status === "failed");
    expect(end).toMatchObject({ host: "ctl2", step: "web.flaky", code: "E_STEP_COMMAND" });
    const message = (end as { message: string }).message;
    expect(message).toMatch(/^Cannot apply web\.flaky on ctl2: `sh -c .*` exited with code 3: disk on fire$/);
    expect(
      failed.reporter.events.some(
        (e) => e.type === "step-end" && e.step === "web.after" && e.host === "ctl2" && e.status === "blocked",
      ),
    ).toBe(true);
    // Other hosts went on.
    expect(readFileSync(join(t.roots.get("ctl1") ?? "", "steps.log"), "utf8")).toBe("before\nafter\n");

    rmSync(join(t.dir, "fail-ctl2"));
    const resumed = await t.run({ resume: true });
    expect(resumed.status).toBe("ok");
    expect(resumed.counts.resumed).toBeGreaterThan(0);
    // `before` ran once per host in total, `after` now ran on ctl2 too.
    for (const host of ["ctl1", "ctl2", "ctl3"]) {
      expect(readFileSync(join(t.roots.get(host) ?? "", "steps.log"), "utf8")).toBe("before\nafter\n");
    }
    await expect(t.run({ resume: true })).rejects.toMatchObject({ code: "E_RESUME_FINISHED" });
  });

  it("refuses to resume when the inputs changed since the failed run", async () => {
    const t = setup({
      extraSteps: [{ ...appendStep("x"), apply: async (c) => void (await c.run(["false"])) }],
    });
    expect((await t.run()).status).toBe("failed");
    t.state.web = "port = 81";
    const error = await t.run({ resume: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HastackError);
    expect(error).toMatchObject({ code: "E_RESUME_STALE" });
  });

  it("restarts or reloads only what a changed file declares, and only running units", async () => {
    const t = setup({ hosts: ["ctl1", "ctl2"] });
    await t.run();
    const log = (h: string) => join(t.roots.get(h) ?? "", "units.log");
    expect(existsSync(log("ctl1"))).toBe(false); // nothing was running on first contact
    for (const [, root] of t.roots)
      for (const u of ["web", "web-extra"]) writeFileSync(join(root, `active-${u}`), "");
    t.state.web = "port = 8080";
    const r = await t.run();
    expect(r.counts.changed).toBe(4); // files + restart on each of 2 hosts
    expect(readFileSync(log("ctl1"), "utf8")).toBe("restart web\n");
    expect(readFileSync(log("ctl2"), "utf8")).toBe("restart web\n");
    // Restarts go one host at a time.
    const order = r.reporter.events
      .filter((e) => e.type === "step-start" && e.step === "web.restart")
      .map((e) => (e as { host: string }).host);
    expect(order).toEqual(["ctl1", "ctl2"]);
    expect((await t.run()).counts.changed).toBe(0);
  });

  it("reloads systemd before restarting when a unit file changed", async () => {
    const t = setup({ hosts: ["ctl1"] });
    await t.run();
    const root = t.roots.get("ctl1") ?? "";
    writeFileSync(join(root, "active-web"), "");
    t.state.unit = "[Service]\nExecStart=/usr/bin/web --fast\n";
    await t.run();
    // Once when the unit file was first written, once for the change; the restart step comes after.
    expect(readFileSync(join(root, "daemon.log"), "utf8")).toBe("daemon-reload\ndaemon-reload\n");
    expect(readFileSync(join(root, "units.log"), "utf8")).toBe("restart web\n");
  });

  it("owes a restart across a failed run: --resume still restarts", async () => {
    const t = setup({ hosts: ["ctl1"] });
    await t.run();
    const root = t.roots.get("ctl1") ?? "";
    writeFileSync(join(root, "active-web"), "");
    t.state.web = "port = 9";
    const broken = await t.run({
      units: { ...units, restart: () => ["sh", "-c", "echo unit failed >&2; exit 1"] },
    });
    expect(broken.status).toBe("failed");
    const resumed = await t.run({ resume: true });
    expect(resumed.status).toBe("ok");
    expect(readFileSync(join(root, "units.log"), "utf8")).toBe("restart web\n");
  });

  it("dry run changes nothing, shows a masked diff and the steps that would act", async () => {
    const t = setup({ hosts: ["ctl1", "ctl2"] });
    await t.run();
    const conf = join(t.roots.get("ctl1") ?? "", "etc/web/web.conf");
    const before = readFileSync(conf, "utf8");
    const journals = readdirSync(join(t.dir, ".hastack", "runs")).length;
    t.state.web = "port = 443";
    const dry = await t.run({ dryRun: true });
    expect(readFileSync(conf, "utf8")).toBe(before);
    expect(readdirSync(join(t.dir, ".hastack", "runs")).length).toBe(journals);
    const text = dry.reporter.text();
    expect(text).not.toContain(SECRET);
    expect(text).toContain(
      "ctl1: /etc/web/web.conf\n--- a/etc/web/web.conf\n+++ b/etc/web/web.conf\n@@ -1,3 +1,3 @@\n # ctl1\n-port = 80\n+port = 443\n password = <secret:web_password>",
    );
    expect(text).toMatch(/ctl2 +web\.files +would-change/);
    expect(text).toMatch(/would restart\/reload if running: web$/m);
    expect(text).toMatch(/^2 would change, \d+ ok, 0 failed/m);
  });

  it("--limit runs only on the named hosts", async () => {
    const t = setup();
    const r = await t.run({ limit: ["ctl2"] });
    expect(r.status).toBe("ok");
    expect(existsSync(join(t.roots.get("ctl2") ?? "", "etc/web/web.conf"))).toBe(true);
    expect(existsSync(join(t.roots.get("ctl1") ?? "", "etc/web/web.conf"))).toBe(false);
    await expect(t.run({ limit: ["nope"] })).rejects.toMatchObject({
      code: "E_UNKNOWN_NAME",
      message: expect.stringContaining("'nope'"),
    });
  });
});
