import { describe, expect, it } from "vitest";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport, runStep, toolCalls } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { dbSyncStep, parseCurrent, schemaCurrent } from "./db-sync.ts";

const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const MANAGE =
  "runuser -u neutron -- neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini";
// neutron-db-manage's own lines around alembic's (cli.py: do_alembic_command), and a log warning.
const current = (...revs: string[]) =>
  [
    "2026-12-02 14:00:00.123 4242 WARNING oslo_db.sqlalchemy.engines [-] something: else",
    "Running current for neutron ...",
    ...revs,
    "OK",
    "",
  ].join("\n");

describe("neutron-db-manage current", () => {
  it("reads each branch's revision and whether it is that branch's head", () => {
    expect(parseCurrent(current("5881373af7f5 (head)", "I38991de2b4 (head)"))).toEqual([
      { id: "5881373af7f5", head: true },
      { id: "I38991de2b4", head: true },
    ]);
    expect(parseCurrent(current("c3e9d13c4367 (branchpoint)"))).toEqual([
      { id: "c3e9d13c4367", head: false },
    ]);
  });

  it("is current only with both branches at their heads", () => {
    expect(schemaCurrent(parseCurrent(current("5881373af7f5 (head)", "I38991de2b4 (head)")))).toBe(true);
    expect(schemaCurrent(parseCurrent(current()))).toBe("no revision in the database (never synced)");
    expect(schemaCurrent(parseCurrent(current("5881373af7f5 (head)", "0ff9e3881597")))).toBe(
      "behind: 0ff9e3881597 not a head",
    );
    expect(schemaCurrent(parseCurrent(current("5881373af7f5 (head)")))).toMatch(/^only 5881373af7f5/);
  });
});

describe("the db-sync step", () => {
  it("upgrades heads as neutron, with both config files, when the database is empty, then sees it current", async () => {
    let synced = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === `${MANAGE} current`)
        return { stdout: synced ? current("5881373af7f5 (head)", "I38991de2b4 (head)") : current() };
      if (argv === `${MANAGE} upgrade heads`) synced = true;
      return argv.startsWith(MANAGE) ? {} : undefined;
    });
    const r = await runStep({
      service: "neutron",
      step: dbSyncStep,
      host: "ctl1",
      topology,
      services: registry,
      transport: t,
      secrets: {},
    });
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log).toEqual(["schema: no revision in the database (never synced)"]);
    expect(toolCalls(t).map((s) => s.argv)).toEqual([
      `${MANAGE} current`,
      `${MANAGE} upgrade heads`,
      `${MANAGE} current`,
    ]);
    expect(toolCalls(t)[1]?.timeoutMs).toBe(900_000);
  });

  it("runs the upgrade when current fails (the upgrade's own error is then the one shown)", async () => {
    const t = recordingTransport("ctl1", (argv) =>
      argv.startsWith(MANAGE) ? { code: 1, stderr: "Access denied for user neutron" } : undefined,
    );
    const step = {
      service: "neutron",
      step: dbSyncStep,
      host: "ctl1",
      topology,
      services: registry,
      secrets: {},
    };
    await expect(runStep({ ...step, transport: t })).rejects.toThrow(
      /upgrade heads` exited with code 1: Access denied for user neutron/,
    );
    expect(toolCalls(t).map((s) => s.argv)).toEqual([`${MANAGE} current`, `${MANAGE} upgrade heads`]);
  });
});
