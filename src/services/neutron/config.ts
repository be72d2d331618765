/**
 * @module
 * Neutron's files by role. Controllers: neutron.conf (the server processes) and ml2_conf.ini (ML2
 * with OVN: Debian's neutron-api and neutron-rpc-server add it to their --config-file because
 * core_plugin is ml2; neutron-db-manage is given both). Computes: the OVN metadata agent's ini and
 * a neutron.conf without credentials (its init script reads both). Nova's side of the metadata
 * secret is `novaMetadataProxy` below.
 */
import type { ConfigDoc, DocSection } from "../../formats/doc.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { vipFor } from "../../topology/types.ts";
import { serviceAuth } from "../openstack/oslo.ts";
import type { RenderContext } from "../types.ts";
import { ovnRemotes } from "./ovn-central.ts";
import { neutronSettings } from "./settings.ts";

export const NEUTRON_CONF = "/etc/neutron/neutron.conf";
export const ML2_CONF = "/etc/neutron/plugins/ml2/ml2_conf.ini";
export const METADATA_AGENT_CONF = "/etc/neutron/neutron_ovn_metadata_agent.ini";
/** The one secret Nova's metadata API and every compute's metadata agent share. */
export const METADATA_SECRET = "metadata_proxy_secret";
/** Provider networks' physical network name, mapped to br-provider on every chassis. */
export const PHYSNET = "provider";
export const PROVIDER_BRIDGE = "br-provider";
/** Local Open vSwitch database of a chassis (Debian's openvswitch-switch puts it in /run). */
export const OVS_DB_SOCKET = "unix:/run/openvswitch/db.sock";
/** Nova's metadata API port when the site's catalogue has no nova-metadata endpoint (nova declared). */
const NOVA_METADATA_PORT = 8775;

/**
 * How long Neutron's OVSDB connections (neutron-server's to the NB and SB leaders, the metadata
 * agent's to the SB) stay silent before an echo, and then before they are dropped: OVN's own
 * default, not Neutron's 60 s. A controller that loses power sends no reset, so only this probe
 * notices; with 60 s neutron-api's threads sat on transactions to the dead leader and the API
 * answered 503 for 98.8 s (controller-poweroff-under-load, ctl1 the target, session 18:
 * "no response to inactivity probe after 60.1 seconds" in neutron-api.log).
 */
export const OVSDB_PROBE_MS = 5_000;

/** neutron.conf's own sections on a controller (the shared oslo ones are merged under them). */
export function serverSections(ctx: RenderContext): DocSection[] {
  return [
    {
      name: "DEFAULT",
      entries: [
        ["core_plugin", "ml2"],
        ["service_plugins", "ovn-router"],
        ["auth_strategy", "keystone"],
        ["notify_nova_on_port_status_changes", "true"],
        ["notify_nova_on_port_data_changes", "true"],
        // Every controller is a gateway chassis, so router HA is OVN's (gateway chassis
        // priorities), not Neutron's keepalived L3 agents.
        ["l3_ha", "false"],
      ],
    },
    serviceAuth(ctx, "nova", "neutron", [["endpoint_type", "internal"]]),
    serviceAuth(ctx, "placement", "neutron", [["valid_interfaces", "internal"]]),
    // HAProxy in front: the scheme and client address of a request come from X-Forwarded-*.
    { name: "oslo_middleware", entries: [["enable_proxy_headers_parsing", "true"]] },
  ];
}

/**
 * ML2 with OVN: Geneve self-service networks, flat provider networks on `provider`. max_header_size
 * 38 is OVN's Geneve header with its options (Neutron subtracts it from the MTU of the networks it
 * creates); port_security lets a port opt out of security groups and anti-spoofing.
 */
export function ml2Conf(topology: Topology, host: ResolvedHost): ConfigDoc {
  const s = neutronSettings(topology);
  return {
    format: "ini",
    header: [`Rendered by hastack for ${host.name}; edit the inventory (overrides), not this file.`],
    sections: [
      {
        name: "ml2",
        entries: [
          ["type_drivers", "geneve,flat"],
          ["tenant_network_types", "geneve"],
          ["mechanism_drivers", "ovn"],
          ["extension_drivers", "port_security"],
          ["overlay_ip_version", "4"],
        ],
      },
      {
        name: "ml2_type_geneve",
        entries: [
          ["vni_ranges", s.geneve_vni_ranges],
          ["max_header_size", "38"],
        ],
      },
      { name: "ml2_type_flat", entries: [["flat_networks", PHYSNET]] },
      { name: "securitygroup", entries: [["enable_security_group", "true"]] },
      {
        name: "ovn",
        entries: [
          ["ovn_nb_connection", ovnRemotes(topology, "nb")],
          ["ovn_sb_connection", ovnRemotes(topology, "sb")],
          // New routers' gateway ports go to the controller with the fewest; OVN moves them by
          // the priorities Neutron gives each gateway chassis when one fails.
          ["ovn_l3_scheduler", "leastloaded"],
          ["ovn_metadata_enabled", "true"],
          ["ovsdb_probe_interval", String(OVSDB_PROBE_MS)],
          ["enable_distributed_floating_ip", String(s.enable_distributed_floating_ip)],
        ],
      },
    ],
  };
}

/** A compute's neutron.conf: the metadata agent's init script passes it first; no credentials. */
export function computeSections(): DocSection[] {
  return [{ name: "DEFAULT", entries: [["core_plugin", "ml2"]] }];
}

/** Where the metadata agent's proxies send guests' requests: Nova's metadata API on its VIP. */
export function novaMetadataAddress(topology: Topology): { host: string; port: number } {
  return {
    host: vipFor(topology, "nova"),
    port: topology.endpoints["nova-metadata"]?.port ?? NOVA_METADATA_PORT,
  };
}

/**
 * The OVN metadata agent on a compute: per network with a metadata port, a namespace and a
 * haproxy that adds the instance's headers signed with the shared secret and sends the request
 * to Nova. It reads the chassis from the local OVS database and ports from the southbound one.
 */
export function metadataAgentConf(ctx: RenderContext, host: ResolvedHost): ConfigDoc {
  const nova = novaMetadataAddress(ctx.topology);
  return {
    format: "ini",
    header: [`Rendered by hastack for ${host.name}: the OVN metadata agent.`],
    sections: [
      {
        name: "DEFAULT",
        entries: [
          ["nova_metadata_host", nova.host],
          ["nova_metadata_port", String(nova.port)],
          ["nova_metadata_protocol", "http"],
          ["metadata_proxy_shared_secret", ctx.secret(METADATA_SECRET)],
          // One worker: it only answers the haproxies of this compute's networks.
          ["metadata_workers", "1"],
        ],
      },
      // The package's default is /usr/local/var/run/openvswitch/db.sock, which Debian never has.
      { name: "ovs", entries: [["ovsdb_connection", OVS_DB_SOCKET]] },
      {
        name: "ovn",
        entries: [
          ["ovn_sb_connection", ovnRemotes(ctx.topology, "sb")],
          ["ovsdb_probe_interval", String(OVSDB_PROBE_MS)],
        ],
      },
    ],
  };
}

/**
 * Nova's [neutron] entries for the metadata proxy: Nova trusts requests whose instance headers
 * are signed with the same secret the metadata agents sign with. For nova's controllerSections
 * (it has these two entries today, written by hand; this keeps the name in one place).
 */
export function novaMetadataProxy(ctx: RenderContext): DocSection {
  return {
    name: "neutron",
    entries: [
      ["service_metadata_proxy", "true"],
      ["metadata_proxy_shared_secret", ctx.secret(METADATA_SECRET)],
    ],
  };
}
