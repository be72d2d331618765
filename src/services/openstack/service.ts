/**
 * @module
 * `openstackService(spec)`: an OpenStack service from its data. What every service needs from
 * the base layer (its database, RabbitMQ user, Keystone registration, shared oslo sections,
 * HAProxy frontends, API probes) comes from here, so a service folder holds only its own parts.
 */
import type { ConfigDoc } from "../../formats/doc.ts";
import type { Role } from "../../inventory/schema.ts";
import type { ResolvedHost, Topology } from "../../topology/types.ts";
import { vipFor } from "../../topology/types.ts";
import { HastackError } from "../../util/errors.ts";
import { controllerNames, controllers } from "../hosts.ts";
import type {
  FileSpec,
  Frontend,
  Listen,
  RenderContext,
  SecretSpec,
  ServiceDef,
  StepSpec,
} from "../types.ts";
import { amqpStep } from "./amqp-step.ts";
import { databaseStep } from "./database-step.ts";
import { apiProbes, tokenProbes } from "./health.ts";
import { identityStep } from "./identity-step.ts";
import { mergeSections, osloSections, secretNames } from "./oslo.ts";
import type { ApiListener, OpenStackServiceSpec, ServiceConfigFile } from "./spec.ts";
import { startStep } from "./start-step.ts";
import { syncStep } from "./sync-step.ts";
import { wsgiFiles } from "./wsgi.ts";

/** Hosts with a role one of its components runs on, when the inventory enables the service. */
function serviceHosts(spec: OpenStackServiceSpec, topology: Topology): ResolvedHost[] {
  if (!topology.openstack.enabled.includes(spec.id)) return [];
  const roles = new Set<Role>(spec.components.map((c) => c.role));
  if (roles.size === 0) roles.add("controller");
  return topology.hosts.filter((h) => h.roles.some((r) => roles.has(r)));
}

function isController(host: ResolvedHost): boolean {
  return host.controllerIndex > 0;
}

/** Listeners whose endpoint the site's catalogue has (a disabled service's have none). */
function present(spec: OpenStackServiceSpec, topology: Topology): ApiListener[] {
  return spec.listeners.filter((l) => topology.endpoints[l.endpoint]);
}

/**
 * Every controller's own management address behind the VIP: the API binds that address, never
 * 0.0.0.0, because HAProxy holds the same port on the VIP.
 */
export function apiFrontends(spec: OpenStackServiceSpec, topology: Topology): Frontend[] {
  return present(spec, topology).map((l) => {
    const endpoint = topology.endpoints[l.endpoint];
    const port = endpoint?.port ?? 0;
    const address = vipFor(topology, spec.id);
    const publicBind = publicBindOf(topology, l, address, port, endpoint?.publicPort ?? port);
    return {
      name: l.name,
      service: spec.id,
      address,
      port,
      ...(publicBind ? { publicBind } : {}),
      mode: l.mode ?? "http",
      // Sticky listeners (consoles, dashboards) keep a client on one backend by source address.
      balance: l.sticky ? "source" : "roundrobin",
      check: l.check,
      backends: controllers(topology).map((h) => ({ host: h.name, address: h.ip, port })),
      ...(l.sticky ? { sticky: true } : {}),
      ...(l.timeouts ? { timeouts: l.timeouts } : {}),
      ...(l.checkInter_ms ? { checkInter_ms: l.checkInter_ms } : {}),
      ...(l.keepSessionsOnDown ? {} : { serverOptions: ["on-marked-down shutdown-sessions"] }),
    };
  });
}

/**
 * The public VIP's listener, when clients reach the API there and not on `address:port`: with
 * TLS (HAProxy terminates it), or on a public VIP of its own without.
 */
function publicBindOf(
  topology: Topology,
  listener: ApiListener,
  address: string,
  port: number,
  publicPort: number,
): Frontend["publicBind"] {
  if (listener.public === false) return undefined;
  const tls = topology.tls.public !== "off";
  const publicAddress = topology.vips.public;
  if (!tls && publicAddress === address && publicPort === port) return undefined;
  // A browser that types the address gets sent to https (Horizon: 80 -> 443).
  const redirect = tls && (listener.mode ?? "http") === "http" && publicPort !== port;
  return { address: publicAddress, port: publicPort, tls, ...(redirect ? { redirectFrom: port } : {}) };
}

/** The generated passwords of what the service declares, plus its own secrets. */
export function openstackSecrets(spec: OpenStackServiceSpec): SecretSpec[] {
  const names = secretNames(spec.id);
  const generated: SecretSpec[] = [];
  if (spec.database)
    generated.push({
      name: names.database,
      kind: "password",
      description: `MariaDB password of the ${spec.id} database user`,
    });
  if (spec.identity)
    generated.push({
      name: names.identity,
      kind: "password",
      description: `Keystone password of the ${spec.id} service user`,
    });
  if (spec.amqp)
    generated.push({
      name: names.amqp,
      kind: "password",
      description: `RabbitMQ password of the ${spec.id} user`,
    });
  return [...generated, ...(spec.secrets ?? [])];
}

/** A config file: the shared oslo sections, then the service's own merged over them. */
export function configDoc(
  ctx: RenderContext,
  host: ResolvedHost,
  spec: OpenStackServiceSpec,
  file: ServiceConfigFile,
): ConfigDoc {
  const shared = osloSections(ctx, host, { id: spec.id, databases: databaseSectionsOf(spec) }, file.sections);
  return {
    format: "ini",
    header: [`Rendered by hastack for ${host.name}; edit the inventory (overrides), not this file.`],
    sections: mergeSections(shared, file.own?.(ctx, host) ?? []),
  };
}

/** The config sections that name a database, [database] of the first one unless the spec says. */
export function databaseSectionsOf(spec: OpenStackServiceSpec): { section: string; name: string }[] {
  const db = spec.database;
  if (!db) return [];
  if (db.sections) return db.sections;
  return db.names[0] ? [{ section: "database", name: db.names[0] }] : [];
}

function configFiles(ctx: RenderContext, host: ResolvedHost, spec: OpenStackServiceSpec): FileSpec[] {
  const out: FileSpec[] = [];
  for (const file of spec.config ?? []) {
    if (!host.roles.some((r) => (file.roles ?? ["controller"]).includes(r))) continue;
    // A host of two roles (a converged controller and compute) gets the first file of a path:
    // specs list the controller's, a superset, before the compute's.
    if (out.some((f) => f.path === file.path)) continue;
    out.push({
      path: file.path,
      owner: file.owner,
      group: file.group,
      // Database, RabbitMQ and Keystone passwords are in it.
      mode: 0o640,
      content: configDoc(ctx, host, spec, file),
      onChange: { restart: file.restart },
    });
  }
  return out;
}

/** The steps every OpenStack service shares, for what it declares, before its own. */
export function sharedSteps(spec: OpenStackServiceSpec): StepSpec[] {
  const steps: StepSpec[] = [];
  if (spec.database) steps.push(databaseStep({ user: spec.id, databases: spec.database.names }));
  if (spec.amqp) steps.push(amqpStep(spec.id));
  if (spec.identity) steps.push(identityStep(spec.id, spec.identity));
  return steps;
}

/**
 * The service's own steps, with the steps its `sync` and `start` data make: each takes the place
 * and `after` of the name of its id in `steps`, or comes first when there is none.
 */
export function ownSteps(spec: OpenStackServiceSpec, topology: Topology): StepSpec[] {
  const made: StepSpec[] = [];
  if (spec.sync) made.push(syncStep(spec.sync));
  if (spec.start)
    made.push(startStep(spec.id, spec.start, controllerNames(topology), spec.sync ? ["db-sync"] : []));
  const placed = new Set<string>();
  const declared = typeof spec.steps === "function" ? spec.steps(topology) : (spec.steps ?? []);
  const own = declared.map((step) => {
    const from = made.find((m) => m.id === step.id);
    if (!from) return step;
    if (step.check || step.apply)
      throw new HastackError(
        "E_OPENSTACK_SPEC",
        `Step ${spec.id}.${step.id} has a check or apply and is also made from ${spec.id}'s ${step.id === "start" ? "start" : "sync"} data`,
        { hint: "keep one of them: a step of that id in `steps` may only be a name (id, title, after)" },
      );
    placed.add(step.id);
    return step.after ? { ...from, after: step.after } : from;
  });
  return [...made.filter((m) => !placed.has(m.id)), ...own];
}

export function openstackService(spec: OpenStackServiceSpec): ServiceDef {
  return {
    id: spec.id,
    title: spec.title,
    state: spec.state,
    group: "openstack",
    requires: spec.requires,
    after: spec.after,
    endpoints: spec.endpoints,
    components: spec.components,
    ...(spec.settings ? { settings: spec.settings } : {}),
    ...(spec.check ? { check: spec.check } : {}),
    ...(spec.pacemaker ? { pacemaker: spec.pacemaker } : {}),
    hosts: (topology) => serviceHosts(spec, topology).map((h) => h.name),
    secrets: openstackSecrets(spec),
    files: (ctx, host) => [
      ...configFiles(ctx, host, spec),
      ...(isController(host) ? wsgiFiles(ctx.topology, host, spec) : []),
      ...(spec.files?.(ctx, host) ?? []),
    ],
    frontends: (topology) => apiFrontends(spec, topology),
    listens: (topology, host): Listen[] =>
      isController(host)
        ? present(spec, topology).map((l) => ({
            address: host.ip,
            port: topology.endpoints[l.endpoint]?.port ?? 0,
            proto: "tcp",
            owner: `${spec.id} ${l.name}`,
          }))
        : [],
    steps: (topology) => [...sharedSteps(spec), ...ownSteps(spec, topology)],
    health: (topology, services) => [
      ...apiProbes(spec.id, present(spec, topology), topology),
      ...(spec.identity ? tokenProbes(spec.id, spec.tokenProbe, topology) : []),
      ...(spec.health?.(topology, services) ?? []),
    ],
  };
}
