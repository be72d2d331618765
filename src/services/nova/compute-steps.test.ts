import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exampleTopology, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { volumeSecretUuid } from "../ceph/layout.ts";
import { recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import type { StepSpec } from "../types.ts";
import { libvirtCephSecrets } from "./compute-steps.ts";
import { nova } from "./index.ts";
import { rbdSecretUuid } from "./settings.ts";

/** What nova's compute-side steps and the discovery run on a host, against a recording transport. */
const registry = withOpenStackImplemented(services);
const topology = exampleTopology("lab", undefined, registry);
const KEY = "AQBsecretkeyofnovaxxxxxxxxxxxxxxxxxxxx==";
const CINDER_KEY = "AQBsecretkeyofcinderxxxxxxxxxxxxxxxxxx==";
const secrets = { svc_nova: "nova-password", ceph_nova_key: KEY, ceph_cinder_key: CINDER_KEY };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const UUID = rbdSecretUuid(topology);
const CINDER_UUID = volumeSecretUuid(topology);
const VIRSH = "virsh -c qemu:///system";

function stepOf(id: string): StepSpec {
  const found = nova.steps?.(topology, registry).find((s) => s.id === id);
  if (!found) throw new Error(`no step nova.${id}`);
  return found;
}

const run = (step: StepSpec, transport: ReturnType<typeof recordingTransport>, host = "cmp1") =>
  runStep({ service: "nova", step, host, topology, services: registry, transport, secrets });

describe("libvirt on a compute", () => {
  it("enables and starts libvirtd, and removes the autostart default network", async () => {
    let started = false;
    let network = true;
    const t = recordingTransport("cmp1", (argv) => {
      if (argv.startsWith("systemctl is-enabled")) return started ? {} : { code: 1, stdout: "disabled\n" };
      if (argv.startsWith("systemctl is-active")) return started ? {} : { code: 3 };
      if (argv === "systemctl start libvirtd.socket virtlogd.socket") started = true;
      if (argv === `${VIRSH} net-list --all --name`) return { stdout: network ? "default\n\n" : "\n" };
      if (argv === `${VIRSH} net-undefine default`) network = false;
      return argv.startsWith("systemctl") || argv.startsWith(VIRSH) ? {} : undefined;
    });
    expect(await run(stepOf("libvirt"), t)).toMatchObject({ before: false, applied: true, after: true });
    const changes = t.seen
      .map((s) => s.argv)
      .filter((a) => !/is-(enabled|active)|net-list|reset-failed/.test(a));
    expect(changes).toEqual([
      "systemctl enable libvirtd.service virtlogd.socket",
      "systemctl start libvirtd.socket virtlogd.socket",
      `${VIRSH} net-destroy default`,
      `${VIRSH} net-undefine default`,
    ]);
  });
});

describe("the libvirt secrets of client.nova and client.cinder", () => {
  it("defines each secret and sets its value from stdin; no key is in an argv or the log", async () => {
    const values = new Map<string, string>();
    const t = recordingTransport("cmp1", (argv) => {
      const get = /secret-get-value (\S+)$/.exec(argv);
      if (get?.[1]) {
        const value = values.get(get[1]);
        return value ? { stdout: `${value}\n` } : { code: 1, stderr: "error: Secret not found" };
      }
      if (argv === `${VIRSH} secret-define --file /dev/stdin`) return { stdout: "Secret created\n" };
      const set = /secret-set-value --secret (\S+) --file \/dev\/stdin$/.exec(argv);
      if (set?.[1]) {
        values.set(set[1], t.seen.at(-1)?.stdin ?? "");
        return { stdout: "Secret value set\n" };
      }
      return undefined;
    });
    const r = await run(stepOf("libvirt-secret"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(values.get(UUID)).toBe(KEY);
    expect(values.get(CINDER_UUID)).toBe(CINDER_KEY);
    expect(CINDER_UUID).not.toBe(UUID);
    const defines = t.seen.filter((s) => s.argv.includes("secret-define")).map((s) => s.stdin ?? "");
    expect(defines[0]).toContain(`<uuid>${UUID}</uuid>`);
    expect(defines[0]).toContain("<name>client.nova secret</name>");
    // libvirt refuses two ceph secrets with one usage name.
    expect(defines[1]).toContain(`<uuid>${CINDER_UUID}</uuid>`);
    expect(defines[1]).toContain("<name>client.cinder secret</name>");
    for (const d of defines) expect(d).toContain("<secret ephemeral='no' private='no'>");
    const said = [...t.seen.map((s) => s.argv), ...r.log].join("\n");
    expect(said).not.toContain(KEY);
    expect(said).not.toContain(CINDER_KEY);
    expect(r.log).toEqual([
      `libvirt has no value for secret ${UUID} (client.nova)`,
      `libvirt has no value for secret ${CINDER_UUID} (client.cinder)`,
    ]);
  });

  it("sets a value again when the secret holds another key (a rotated client.nova), without saying either", async () => {
    const t = recordingTransport("cmp2", (argv) =>
      argv.includes(`secret-get-value ${UUID}`)
        ? { stdout: "AQBoldkey==\n" }
        : argv.includes(`secret-get-value ${CINDER_UUID}`)
          ? { stdout: `${CINDER_KEY}\n` }
          : argv.startsWith(VIRSH)
            ? {}
            : undefined,
    );
    const r = await run({ ...stepOf("libvirt-secret"), apply: async () => {} }, t, "cmp2");
    expect(r.before).toBe(false);
    expect(r.log[0]).toBe(`libvirt secret ${UUID} holds another key than client.nova's`);
    expect(r.log.join("\n")).not.toContain("cinder");
  });

  it("defines only client.nova's secret when Cinder is not enabled", () => {
    const noCinder = { ...topology, openstack: { ...topology.openstack, enabled: ["nova"] } };
    expect(libvirtCephSecrets(noCinder).map((s) => s.client)).toEqual(["nova"]);
    expect(libvirtCephSecrets(topology).map((s) => s.client)).toEqual(["nova", "cinder"]);
  });
});

describe("discovering the computes", () => {
  const login =
    'HTTP/1.1 201 Created\r\nX-Subject-Token: gAAAAtoken\r\n\r\n{"token":{"expires_at":"2026-12-02T11:00:00Z","catalog":[]}}\n--hastack-status--201';
  const services200 = JSON.stringify({
    services: [
      { binary: "nova-compute", host: "cmp1", status: "enabled", state: "up", zone: "nova" },
      { binary: "nova-compute", host: "cmp2.cluster.local", status: "enabled", state: "up", zone: "nova" },
    ],
  });
  // Nova's hypervisors API skips a compute node whose host has no cell mapping (as on the lab):
  // cmp2 is listed only once discover_hosts has mapped it.
  const hypervisors200 = (mapped: boolean) =>
    JSON.stringify({
      hypervisors: [
        { id: 1, hypervisor_hostname: "cmp1", state: "up", status: "enabled" },
        ...(mapped
          ? [{ id: 2, hypervisor_hostname: "cmp2.cluster.local", state: "up", status: "enabled" }]
          : []),
      ],
    });
  // The rows cell-db.ts reads from nova_api.host_mappings (its SQL on a real schema: cell-db.test.ts).
  const mappings = (discovered: boolean) => ({
    stdout: `cmp1\tcell1\n${discovered ? "cmp2.cluster.local\tcell1\n" : ""}`,
  });

  it("waits for every nova-compute up, maps them, sees their hypervisors, then nova-status must pass", async () => {
    let discovered = false;
    const t = recordingTransport("ctl1", (argv, stdin) => {
      if (argv === "mariadb -N -B" && stdin.includes("nova_api.host_mappings")) return mappings(discovered);
      if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
      if (argv.endsWith("/os-services?binary=nova-compute"))
        return { stdout: `${services200}\n--hastack-status--200` };
      if (argv.endsWith("/os-hypervisors"))
        return { stdout: `${hypervisors200(discovered)}\n--hastack-status--200` };
      if (argv === "runuser -u nova -- nova-manage cell_v2 discover_hosts --verbose") {
        discovered = true;
        return {
          stdout:
            "Found 2 cell mappings.\nSkipping cell0 since it does not contain hosts.\nFound 1 unmapped computes in cell: 7a8d3c52\n",
        };
      }
      if (argv === "runuser -u nova -- nova-status upgrade check")
        return { stdout: "| Check: Cells v2 | Result: Success |\n" };
      return undefined;
    });
    const r = await run(stepOf("discover-hosts"), t, "ctl1");
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toBe("not mapped to a cell: cmp2");
    const asked = t.seen.map((s) => s.argv.split(" ").at(-1));
    expect(asked).toContain("http://10.20.0.10:8774/v2.1/os-services?binary=nova-compute");
    expect(asked).toContain("http://10.20.0.10:8774/v2.1/os-hypervisors");
    expect(t.seen.filter((s) => s.argv.includes("discover_hosts"))).toHaveLength(1);
    expect(t.seen.map((s) => s.argv).join("\n")).not.toMatch(/gAAAAtoken|nova-password/);
    expect(t.seen.find((s) => s.argv.endsWith("/os-hypervisors"))?.stdin).toBe("X-Auth-Token: gAAAAtoken\n");
  });

  it("fails naming nova-status's verdict when Cells v2 still fails after discovery (runbook E9)", async () => {
    let discovered = false;
    const t = recordingTransport("ctl1", (argv) => {
      if (argv === "mariadb -N -B") return mappings(discovered);
      if (argv.endsWith("/v3/auth/tokens")) return { stdout: login };
      if (argv.endsWith("binary=nova-compute")) return { stdout: `${services200}\n--hastack-status--200` };
      if (argv.endsWith("/os-hypervisors"))
        return { stdout: `${hypervisors200(discovered)}\n--hastack-status--200` };
      if (argv.endsWith("discover_hosts --verbose")) {
        discovered = true;
        return {};
      }
      if (argv.endsWith("nova-status upgrade check"))
        return {
          code: 2,
          stdout:
            "| Check: Cells v2 |\n| Result: Failure |\n| Details: No host mappings found but there are compute nodes. |\n",
        };
      return undefined;
    });
    await expect(run(stepOf("discover-hosts"), t, "ctl1")).rejects.toThrow(
      /^nova-status upgrade check failed on ctl1 after discover_hosts: exit code 2: .*No host mappings found/,
    );
  });
});

describe("a compute's isolation from controller units", () => {
  // Captured on the lab's cmp1 after nova-compute's Wants= had started them (postgresql absent).
  const running = fixture("foreign-units-running.txt");
  const SHOW =
    "systemctl show -p Id,LoadState,ActiveState -- keystone.service mariadb.service rabbitmq-server.service epmd.service epmd.socket postgresql.service";

  it("masks and stops what is installed, leaves alone what is not, and is then satisfied", async () => {
    let masked = false;
    const t = recordingTransport("cmp1", (argv) => {
      if (argv === SHOW)
        return {
          stdout: masked
            ? running.replaceAll("LoadState=loaded", "LoadState=masked").replaceAll("=active", "=inactive")
            : running,
        };
      if (argv.startsWith("systemctl mask --now ")) {
        masked = true;
        return {};
      }
      return undefined;
    });
    const r = await run(stepOf("compute-isolation"), t);
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log).toContain("keystone.service is running on a compute");
    expect(t.seen.map((s) => s.argv).filter((a) => a.startsWith("systemctl mask"))).toEqual([
      "systemctl mask --now keystone.service mariadb.service rabbitmq-server.service epmd.service epmd.socket",
    ]);
  });

  it("is satisfied on a compute where none of them is installed", async () => {
    const none = running
      .replaceAll(/LoadState=[\w-]+/g, "LoadState=not-found")
      .replaceAll("=active", "=inactive");
    const t = recordingTransport("cmp1", (argv) => (argv === SHOW ? { stdout: none } : undefined));
    expect(await run(stepOf("compute-isolation"), t)).toMatchObject({ before: true });
    expect(t.seen.some((s) => s.argv.startsWith("systemctl mask"))).toBe(false);
  });
});
