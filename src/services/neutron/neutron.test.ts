import { describe, expect, it } from "vitest";
import { secretPlaceholder as ph } from "../../inventory/secrets.ts";
import { exampleTopology, renderedFile, withOpenStackImplemented } from "../../testing/fixtures.ts";
import { parseIni } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { secretSpecs } from "../secret-specs.ts";
import { METADATA_AGENT_CONF, ML2_CONF, NEUTRON_CONF, novaMetadataProxy } from "./config.ts";
import { neutron } from "./index.ts";
import { OVN_CENTRAL_DEFAULTS } from "./ovn-central.ts";

// Neutron is declared until it has run on the lab; a declared service renders nothing, so these
// tests render the site as it will be once it is implemented.
const registry = withOpenStackImplemented(services);
const lab = exampleTopology("lab", undefined, registry);
const ini = (host: string, path: string, t = lab) => parseIni(renderedFile(t, host, path, registry).text);
const NB = "tcp:10.20.0.11:6641,tcp:10.20.0.12:6641,tcp:10.20.0.13:6641";
const SB = "tcp:10.20.0.11:6642,tcp:10.20.0.12:6642,tcp:10.20.0.13:6642";

/** A shell-env file's assignments, unquoted as sh would (only what serialize.ts escapes). */
function shellEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)="((?:[^"\\]|\\.)*)"$/.exec(line);
    if (m?.[1]) out[m[1]] = (m[2] ?? "").replace(/\\(.)/g, "$1");
  }
  return out;
}

describe("neutron.conf and ml2_conf.ini on a controller", () => {
  it("neutron.conf: ML2 with the OVN router, its database, brokers, Keystone, and Nova/Placement on the VIP", () => {
    const file = renderedFile(lab, "ctl2", NEUTRON_CONF, registry);
    expect([file.owner, file.group, file.mode]).toEqual(["root", "neutron", 0o640]);
    const conf = ini("ctl2", NEUTRON_CONF);
    expect(conf.DEFAULT).toMatchObject({ core_plugin: "ml2", service_plugins: "ovn-router", l3_ha: "false" });
    expect(conf.database?.connection).toBe(
      `mysql+pymysql://neutron:${ph("db_neutron")}@10.20.0.10:3306/neutron?charset=utf8mb4`,
    );
    expect(conf.DEFAULT?.transport_url).toMatch(
      /^rabbit:\/\/neutron:.*@ctl1:5672,.*@ctl3:5672\/%2Fopenstack$/,
    );
    expect(conf.keystone_authtoken).toMatchObject({ username: "neutron", password: ph("svc_neutron") });
    expect(conf.nova).toMatchObject({ username: "neutron", endpoint_type: "internal" });
    expect(conf.placement).toMatchObject({ username: "neutron", valid_interfaces: "internal" });
    expect(conf.oslo_middleware).toEqual({ enable_proxy_headers_parsing: "true" });
  });

  it("ml2_conf.ini: Geneve tenants, flat provider, the OVN driver on all three NB and SB servers", () => {
    expect(renderedFile(lab, "ctl1", ML2_CONF, registry).group).toBe("neutron");
    const ml2 = ini("ctl1", ML2_CONF);
    expect(ml2.ml2).toMatchObject({
      type_drivers: "geneve,flat",
      tenant_network_types: "geneve",
      mechanism_drivers: "ovn",
      extension_drivers: "port_security",
    });
    expect(ml2.ml2_type_geneve).toEqual({ vni_ranges: "1:65536", max_header_size: "38" });
    expect(ml2.ml2_type_flat).toEqual({ flat_networks: "provider" });
    expect(ml2.ovn).toEqual({
      ovn_nb_connection: NB,
      ovn_sb_connection: SB,
      ovn_l3_scheduler: "leastloaded",
      ovn_metadata_enabled: "true",
      enable_distributed_floating_ip: "false",
      ovsdb_probe_interval: "5000",
    });
  });

  it("takes distributed floating IPs and VNI ranges from services.neutron", () => {
    const t = exampleTopology(
      "lab",
      (inv) => {
        inv.services = {
          ...inv.services,
          neutron: { enable_distributed_floating_ip: true, geneve_vni_ranges: "100:200,300:400" },
        };
      },
      registry,
    );
    const ml2 = ini("ctl3", ML2_CONF, t);
    expect(ml2.ovn?.enable_distributed_floating_ip).toBe("true");
    expect(ml2.ml2_type_geneve?.vni_ranges).toBe("100:200,300:400");
  });

  it("/etc/default/ovn-central: ctl1 creates both clusters, ctl2 joins ctl1; each listens on its own address", () => {
    const first = shellEnv(
      renderedFile(lab, "ctl1", OVN_CENTRAL_DEFAULTS, registry).text,
    ).OVN_CTL_OPTS?.split(" ");
    const second = shellEnv(
      renderedFile(lab, "ctl2", OVN_CENTRAL_DEFAULTS, registry).text,
    ).OVN_CTL_OPTS?.split(" ");
    expect(first).toEqual([
      "--db-nb-addr=10.20.0.11",
      "--db-nb-create-insecure-remote=yes",
      "--db-nb-cluster-local-addr=10.20.0.11",
      "--db-nb-election-timer=5000",
      "--db-sb-addr=10.20.0.11",
      "--db-sb-create-insecure-remote=yes",
      "--db-sb-cluster-local-addr=10.20.0.11",
      "--db-sb-election-timer=5000",
      `--ovn-northd-nb-db=${NB}`,
      `--ovn-northd-sb-db=${SB}`,
    ]);
    expect(second).toContain("--db-nb-cluster-local-addr=10.20.0.12");
    expect(second).toContain("--db-nb-addr=10.20.0.12");
    expect(second).toContain("--db-nb-cluster-remote-addr=10.20.0.11");
    expect(second).toContain("--db-sb-cluster-remote-addr=10.20.0.11");
    expect(second?.join(" ")).not.toContain("0.0.0.0");
  });
});

describe("a compute's files", () => {
  it("the metadata agent sends guests to Nova's metadata API on the VIP, signed with the secret Nova checks", () => {
    const file = renderedFile(lab, "cmp1", METADATA_AGENT_CONF, registry);
    expect([file.owner, file.group, file.mode]).toEqual(["root", "neutron", 0o640]);
    const agent = parseIni(file.text);
    expect(agent.DEFAULT).toMatchObject({
      nova_metadata_host: "10.20.0.10",
      nova_metadata_port: "8775",
      metadata_proxy_shared_secret: ph("metadata_proxy_secret"),
    });
    expect(agent.ovs).toEqual({ ovsdb_connection: "unix:/run/openvswitch/db.sock" });
    expect(agent.ovn).toEqual({ ovn_sb_connection: SB, ovsdb_probe_interval: "5000" });
    // Nova's controllers hold the same placeholder: one secret, one value.
    const nova = parseIni(renderedFile(lab, "ctl1", "/etc/nova/nova.conf", registry).text);
    expect(nova.neutron?.metadata_proxy_shared_secret).toBe(agent.DEFAULT?.metadata_proxy_shared_secret);
    expect(secretSpecs(registry).filter((s) => s.name === "metadata_proxy_secret")).toHaveLength(1);
  });

  it("neutron.conf on a compute has no database, broker or Keystone credentials", () => {
    const conf = ini("cmp2", NEUTRON_CONF);
    expect(Object.keys(conf).sort()).toEqual(["DEFAULT", "oslo_concurrency"]);
    expect(renderedFile(lab, "cmp2", NEUTRON_CONF, registry).text).not.toContain("{{");
    expect(() => renderedFile(lab, "cmp2", ML2_CONF, registry)).toThrow(/Cannot find/);
    expect(() => renderedFile(lab, "cmp2", OVN_CENTRAL_DEFAULTS, registry)).toThrow(/Cannot find/);
  });

  it("every chassis pins its OVS system-id to its name; storage hosts are no chassis", () => {
    expect(renderedFile(lab, "cmp1", "/etc/openvswitch/system-id.conf", registry).text).toBe("cmp1\n");
    expect(renderedFile(lab, "ctl3", "/etc/openvswitch/system-id.conf", registry).text).toBe("ctl3\n");
    expect(neutron.hosts(lab)).not.toContain("sto1");
  });

  it("novaMetadataProxy: the [neutron] entries nova.conf needs, with the same secret", () => {
    const section = novaMetadataProxy({ secret: (n: string) => `<${n}>` } as never);
    expect(section).toEqual({
      name: "neutron",
      entries: [
        ["service_metadata_proxy", "true"],
        ["metadata_proxy_shared_secret", "<metadata_proxy_secret>"],
      ],
    });
  });
});

describe("neutron in the registry", () => {
  it("renders nothing while declared, its files once implemented (the flip is one word)", () => {
    const real = exampleTopology("lab");
    const declared = services.find((s) => s.id === "neutron")?.state === "declared";
    if (declared) expect(() => renderedFile(real, "ctl1", ML2_CONF)).toThrow(/Cannot find/);
    else expect(renderedFile(real, "ctl1", ML2_CONF).text).toContain("mechanism_drivers = ovn");
  });

  it("orders its steps: OVN before the start and the chassis, db-sync before the start, agents last", () => {
    const steps = neutron.steps?.(lab, registry) ?? [];
    const byId = Object.fromEntries(steps.map((s) => [s.id, s]));
    expect(steps.map((s) => s.id)).toEqual([
      "database",
      "amqp-user",
      "identity",
      "ovn",
      "db-sync",
      "start",
      "chassis",
      "agents",
    ]);
    expect(byId.ovn?.on).toBe("serial");
    expect(byId.ovn?.hosts).toEqual(["ctl1", "ctl2", "ctl3"]);
    expect(byId.start?.after).toEqual(["db-sync", "ovn"]);
    expect(byId.start?.check).toBeDefined();
    expect(byId.chassis?.hosts).toEqual(["ctl1", "ctl2", "ctl3", "cmp1", "cmp2"]);
    expect(byId.agents?.hosts).toEqual(["cmp1", "cmp2"]);
    expect(byId.agents?.after).toEqual(["chassis", "start"]);
  });
});
