import { describe, expect, it } from "vitest";
import { plannedSteps } from "../../deploy/plan-view.ts";
import { exampleTopology, withDeclared } from "../../testing/fixtures.ts";
import { services } from "../registry.ts";
import { renderTopology } from "../render.ts";
import type { ServiceDef, StepSpec } from "../types.ts";
import { ownSteps } from "./service.ts";
import { answers } from "./start-step.ts";
import { recordingTransport, runStep, toolCalls } from "./test-kit.ts";

/**
 * The schema sync and API start that services declare as data (`sync`, `start`): what they run
 * on a host, checked against a recording transport, and how plan shows them.
 */
const topology = exampleTopology("lab");

function stepOf(id: string, step: string): StepSpec {
  const service = services.find((s) => s.id === id) as ServiceDef;
  const found = service.steps?.(topology, services).find((s) => s.id === step);
  if (!found) throw new Error(`no step ${id}.${step}`);
  return found;
}

const run = (service: string, step: StepSpec, transport: ReturnType<typeof recordingTransport>) =>
  runStep({ service, step, host: "ctl1", topology, services, transport, secrets: {} });

describe("the schema sync step", () => {
  const CHECK = "runuser -u glance -- glance-manage db check";
  const SYNC = "runuser -u glance -- glance-manage db sync";

  it("glance: db check's exit code 3 means behind; db sync runs as glance with a long timeout, then db check says 0", async () => {
    let synced = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === CHECK)
        return synced
          ? { stdout: "Database is up to date. No upgrades needed.\n" }
          : {
              code: 3,
              stdout:
                "Your database is not up to date. Your first step is to run `glance-manage db expand`.\n",
            };
      if (argv === SYNC) {
        synced = true;
        return { stdout: "Database is synced successfully.\n" };
      }
      return undefined;
    });
    const step = stepOf("glance", "db-sync");
    expect([step.on, step.after]).toEqual(["bootstrap", ["database"]]);
    const r = await run("glance", step, t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(toolCalls(t).map((s) => s.argv)).toEqual([CHECK, SYNC, CHECK]);
    expect(toolCalls(t)[1]?.timeoutMs).toBe(900_000);
    expect(r.log[0]).toMatch(/^schema: behind \(glance-manage db check: exit code 3: Your database/);
  });

  it("glance: exit code 0 changes nothing; another code is logged and left to the sync to explain", async () => {
    const current = recordingTransport("ctl1", (argv) => (argv === CHECK ? {} : undefined));
    expect(await run("glance", stepOf("glance", "db-sync"), current)).toMatchObject({ applied: false });
    expect(toolCalls(current)).toHaveLength(1);
    const broken = recordingTransport("ctl1", (argv) =>
      argv === CHECK || argv === SYNC
        ? { code: 1, stderr: "ERROR: (2003, Can't connect to MySQL server)" }
        : undefined,
    );
    await expect(run("glance", stepOf("glance", "db-sync"), broken)).rejects.toMatchObject({
      code: "E_STEP_COMMAND",
      message: expect.stringMatching(/glance-manage db sync.*code 1: ERROR: \(2003/),
    });
  });

  it("placement: the stored alembic revision against the code's head, both read as placement", async () => {
    const HEAD = "a082b8bb98d0";
    let stored = "None";
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.startsWith("runuser -u placement -- python3 -c ")) return { stdout: `${HEAD}\n` };
      // oslo.log may write a warning on stdout before the answer: the last line is the revision.
      if (argv === "runuser -u placement -- placement-manage db version")
        return { stdout: `2026-01-01 WARNING oslo_db something\n${stored}\n` };
      if (argv === "runuser -u placement -- placement-manage db sync") {
        stored = HEAD;
        return {};
      }
      return undefined;
    });
    const r = await run("placement", stepOf("placement", "db-sync"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log).toEqual([`schema: behind (database at None, code at ${HEAD})`]);
    expect(toolCalls(t)[0]?.argv).toBe(
      "runuser -u placement -- python3 -c from alembic.script import ScriptDirectory\nfrom placement.db.sqlalchemy import migration\nprint(ScriptDirectory.from_config(migration._alembic_config()).get_current_head())",
    );
    expect(toolCalls(t).map((s) => s.argv.split(" ").slice(4, 7).join(" "))).toEqual([
      "python3 -c from",
      "placement-manage db version",
      "placement-manage db sync",
      "python3 -c from",
      "placement-manage db version",
    ]);
  });

  it("placement: an answer that is not a revision is a tool-output error, not a sync", async () => {
    const t = recordingTransport("ctl1", (argv) =>
      argv.includes("python3")
        ? { stdout: "a082b8bb98d0\n" }
        : { stdout: "Traceback (most recent call last):\n" },
    );
    await expect(run("placement", stepOf("placement", "db-sync"), t)).rejects.toMatchObject({
      code: "E_TOOL_OUTPUT",
    });
  });
});

describe("the API start step", () => {
  const UNIT = "placement-api.service";

  it("enables and starts the unit (its start counter flushed), then waits for 200 at / on the management address", async () => {
    let enabled = false;
    let active = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === `systemctl is-enabled --quiet ${UNIT}`) return { code: enabled ? 0 : 1 };
      if (argv === `systemctl is-active --quiet ${UNIT}`) return { code: active ? 0 : 3 };
      if (argv === `systemctl is-active ${UNIT}`)
        return { code: active ? 0 : 3, stdout: active ? "active" : "inactive" };
      if (argv === `systemctl enable ${UNIT}`) enabled = true;
      if (argv === `systemctl start ${UNIT}`) active = true;
      if (argv.startsWith("systemctl ")) return {};
      if (argv.startsWith("curl "))
        return active ? { stdout: "200" } : { code: 7, stderr: "curl: (7) Failed to connect" };
      return undefined;
    });
    const step = stepOf("placement", "start");
    expect([step.on, step.hosts, step.after]).toEqual(["each", ["ctl1", "ctl2", "ctl3"], ["db-sync"]]);
    const r = await run("placement", step, t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    const changes = t.seen.map((s) => s.argv).filter((a) => /^systemctl (enable|start|reset-failed)/.test(a));
    expect(changes).toEqual([
      `systemctl enable ${UNIT}`,
      `systemctl reset-failed ${UNIT}`,
      `systemctl start ${UNIT}`,
      `systemctl reset-failed ${UNIT}`,
    ]);
    expect(t.seen.find((s) => s.argv.startsWith("curl"))?.argv).toBe(
      "curl -sS -k -o /dev/null --max-time 5 -w %{http_code} http://10.20.0.11:8778/",
    );
  });

  it("glance: 300 Multiple Choices at / is the answer it waits for", () => {
    const step = stepOf("glance", "start");
    expect(step.title).toContain("HTTP 300 at /");
  });

  it("says which URL answered what, and each unit's state, when the API does not give its status", async () => {
    const placement = { units: [UNIT], answers: { endpoint: "placement", path: "/", status: 200 } };
    const ctx = { host: topology.hosts[0], topology } as never;
    const wrong = recordingTransport("ctl1", (argv) =>
      argv.startsWith("curl") ? { stdout: "503" } : { stdout: "active" },
    );
    expect(await answers({ ...(ctx as object), transport: wrong } as never, "placement", placement)).toBe(
      `http://10.20.0.11:8778/ gave HTTP 503, not HTTP 200; ${UNIT} active`,
    );
    const dead = recordingTransport("ctl1", (argv) =>
      argv.startsWith("curl")
        ? { code: 7, stderr: "curl: (7) Failed to connect to 10.20.0.11 port 8778" }
        : { code: 3, stdout: "failed" },
    );
    expect(await answers({ ...(ctx as object), transport: dead } as never, "placement", placement)).toBe(
      `http://10.20.0.11:8778/ gave no answer (curl: (7) Failed to connect to 10.20.0.11 port 8778), not HTTP 200; ${UNIT} failed`,
    );
  });
});

describe("steps made from data, and steps that are only names", () => {
  const base = {
    id: "toy",
    title: "Toy",
    state: "implemented" as const,
    requires: [],
    after: [],
    endpoints: [{ id: "toy", port: 9555, path: "" }],
    listeners: [],
    components: [],
    sync: {
      user: "toy",
      check: { kind: "exit-code" as const, argv: ["toy-manage", "check"], current: 0, behind: [2] },
      apply: ["toy-manage", "sync"],
      memo: { package: "python3-toy", databases: ["toy"] },
    },
  };

  it("a name of the same id gives the made step its place and after; other names stay names", () => {
    const steps = ownSteps(
      {
        ...base,
        steps: [
          { id: "cells", title: "Map cells", on: "bootstrap", after: ["db-sync"] },
          { id: "db-sync", title: "toy-manage sync", on: "bootstrap", after: ["database", "identity"] },
        ],
      },
      topology,
    );
    expect(steps.map((s) => [s.id, s.after, Boolean(s.check)])).toEqual([
      ["cells", ["db-sync"], false],
      ["db-sync", ["database", "identity"], true],
    ]);
  });

  it("refuses a step of that id with a check or apply of its own", () => {
    const check = async () => true;
    expect(() =>
      ownSteps({ ...base, steps: [{ id: "db-sync", title: "x", on: "bootstrap", check }] }, topology),
    ).toThrow(expect.objectContaining({ code: "E_OPENSTACK_SPEC" }));
  });

  it("plan: glance and placement steps are implemented; a declared service is still only named", () => {
    const ahead = withDeclared(["cinder"]);
    const plan = plannedSteps(topology, renderTopology(topology, ahead).files, ahead).get("ctl1") ?? [];
    const own = plan.filter((s) => /^(glance|placement)\./.test(s.id));
    expect(own.map((s) => s.id)).toEqual(
      expect.arrayContaining(["glance.db-sync", "glance.start", "placement.db-sync", "placement.start"]),
    );
    expect(own.filter((s) => s.state !== "implemented")).toEqual([]);
    expect(plan.some((s) => s.id.startsWith("cinder."))).toBe(false);
  });
});
