import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { recordingTransport, runStep, toolCalls } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import type { StepSpec } from "../types.ts";
import { nova } from "./index.ts";

/** What nova's control-plane steps run on the bootstrap controller, against a recording transport. */
const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const secrets = { svc_nova: "nova-password", ceph_nova_key: "AQBsecretkeyofnovaxxxxxxxxxxxxxxxxxxxx==" };

function stepOf(id: string): StepSpec {
  const found = nova.steps?.(topology, registry).find((s) => s.id === id);
  if (!found) throw new Error(`no step nova.${id}`);
  return found;
}

const run = (step: StepSpec, transport: ReturnType<typeof recordingTransport>, host = "ctl1") =>
  runStep({ service: "nova", step, host, topology, services: registry, transport, secrets });

const M = "runuser -u nova -- nova-manage";

describe("nova's schemas", () => {
  it("api_db sync runs as nova when the stored revision is behind the code's head, then it is current", async () => {
    let synced = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.startsWith("runuser -u nova -- python3 -c") && argv.includes("_find_alembic_conf('api')"))
        return { stdout: "b30f573d3377\n" };
      if (argv === `${M} api_db version`) return { stdout: synced ? "b30f573d3377\n" : "None\n" };
      if (argv === `${M} api_db sync`) {
        synced = true;
        return {};
      }
      return undefined;
    });
    const r = await run(stepOf("api-db-sync"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(t.seen.filter((s) => s.argv === `${M} api_db sync`)).toEqual([
      { argv: `${M} api_db sync`, stdin: "", timeoutMs: 900_000 },
    ]);
    expect(r.log[0]).toBe("nova_api schema: behind (database at None, code at b30f573d3377)");
  });

  it("db sync is gated on the main schema's head, not the API's", async () => {
    const t = recordingTransport("ctl1", (argv) => {
      if (argv.includes("_find_alembic_conf('main')")) return { stdout: "d60bddf7a903\n" };
      if (argv === `${M} db version`) return { stdout: "d60bddf7a903\n" };
      return undefined;
    });
    expect(await run(stepOf("db-sync"), t)).toMatchObject({ before: true, applied: false });
    expect(
      toolCalls(t)
        .map((s) => s.argv)
        .filter((a) => a.includes("sync")),
    ).toEqual([]);
  });
});

describe("nova's cells", () => {
  // The rows cell-db.ts reads (its SQL against a real nova_api schema: cell-db.test.ts).
  const cell0 = "cell0\t00000000-0000-0000-0000-000000000000\t0";
  const cell1 = "cell1\t7a8d3c52-61e1-4a7f-9d40-3b4f5e6a7c81\t0";
  const listing = (...rows: (string | undefined)[]) => `${rows.filter(Boolean).join("\n")}\n`;
  const READ = "mariadb -N -B";

  it("maps cell0 and creates cell1 when list_cells has neither, each once", async () => {
    const made = new Set<string>();
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === READ)
        return {
          stdout: listing(made.has("cell0") ? cell0 : undefined, made.has("cell1") ? cell1 : undefined),
        };
      if (argv === `${M} cell_v2 map_cell0`) made.add("cell0");
      else if (argv === `${M} cell_v2 create_cell --name=cell1 --verbose`) made.add("cell1");
      else return undefined;
      return { stdout: "" };
    });
    const r = await run(stepOf("cells"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log).toEqual(["cells missing: cell0, cell1"]);
    expect(t.seen.map((s) => s.argv)).toEqual([
      READ,
      READ,
      `${M} cell_v2 map_cell0`,
      `${M} cell_v2 create_cell --name=cell1 --verbose`,
      READ,
    ]);
    expect(t.seen[0]?.stdin).toContain("FROM nova_api.cell_mappings");
  });

  it("creates only cell1 when cell0 is there; nothing when both are", async () => {
    let cell1Made = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === READ) return { stdout: listing(cell0, cell1Made ? cell1 : undefined) };
      if (argv === `${M} cell_v2 create_cell --name=cell1 --verbose`) {
        cell1Made = true;
        return { stdout: "7a8d3c52-61e1-4a7f-9d40-3b4f5e6a7c81\n" };
      }
      return undefined;
    });
    await run(stepOf("cells"), t);
    expect(t.seen.filter((s) => /map_cell0|create_cell/.test(s.argv)).map((s) => s.argv)).toEqual([
      `${M} cell_v2 create_cell --name=cell1 --verbose`,
    ]);
    const both = recordingTransport("ctl1", (argv) =>
      argv === READ ? { stdout: listing(cell0, cell1) } : undefined,
    );
    expect(await run(stepOf("cells"), both)).toMatchObject({ before: true, applied: false });
  });
});

describe("nova's online data migrations", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format, not a template
  const VERSION = "dpkg-query -W -f ${Version} nova-common";
  const MARKER = "/var/lib/nova/.hastack-online-migrations";

  it("run once per installed Nova version, recorded in a marker", async () => {
    let marker: string | undefined;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === VERSION) return { stdout: "2:31.0.0-6" };
      if (argv === `cat ${MARKER}`) return marker === undefined ? { code: 1 } : { stdout: marker };
      if (argv === `${M} db online_data_migrations`) return { stdout: fixture("online-migrations.txt") };
      if (argv === `tee ${MARKER}`) {
        marker = "2:31.0.0-6";
        return { stdout: marker };
      }
      return undefined;
    });
    const r = await run(stepOf("online-migrations"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log).toEqual(["migrated populate_instance_compute_id 3/3"]);
    expect(t.seen.find((s) => s.argv === `tee ${MARKER}`)?.stdin).toBe("2:31.0.0-6");
    // A new package: the marker names the old version, so the migrations are due again.
    const upgraded = recordingTransport("ctl1", (argv) =>
      argv === VERSION
        ? { stdout: "2:31.1.0-1" }
        : argv === `cat ${MARKER}`
          ? { stdout: "2:31.0.0-6\n" }
          : undefined,
    );
    const noApply = { ...stepOf("online-migrations"), apply: async () => {} };
    expect(await run(noApply, upgraded)).toMatchObject({ before: false, after: false });
  });
});

describe("the controllers' start", () => {
  it("waits for 200 from the compute API, the metadata API and noVNC on the management address", async () => {
    const t = recordingTransport("ctl2", (argv) => {
      if (argv.startsWith("systemctl is-enabled") || argv.startsWith("systemctl is-active")) return {};
      if (argv.startsWith("curl ")) return { stdout: "200" };
      return undefined;
    });
    expect(await run(stepOf("start"), t, "ctl2")).toMatchObject({ before: true, applied: false });
    expect(t.seen.filter((s) => s.argv.startsWith("curl")).map((s) => s.argv.split(" ").at(-1))).toEqual([
      "http://10.20.0.12:8774/",
      "http://10.20.0.12:8775/",
      "http://10.20.0.12:6080/vnc_lite.html",
    ]);
  });

  it("names the unit and the answer when an API is not up yet", async () => {
    const t = recordingTransport("ctl2", (argv) => {
      if (argv.startsWith("systemctl is-enabled") || argv.startsWith("systemctl is-active --quiet"))
        return {};
      if (argv === "systemctl is-active nova-api-metadata.service") return { stdout: "activating\n" };
      if (argv.startsWith("systemctl is-active")) return { stdout: "active\n" };
      if (argv.endsWith(":8775/")) return { stdout: "503" };
      if (argv.startsWith("curl ")) return { stdout: "200" };
      return undefined;
    });
    const r = await run({ ...stepOf("start"), apply: async () => {} }, t, "ctl2");
    expect(r.before).toBe(false);
    expect(r.log[0]).toMatch(
      /^http:\/\/10\.20\.0\.12:8775\/ gave HTTP 503, not HTTP 200; .*nova-api-metadata\.service activating/,
    );
  });
});
