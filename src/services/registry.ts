import { cinder } from "./cinder/index.ts";
import { etcd } from "./etcd/index.ts";
import { galera } from "./galera/index.ts";
import { glance } from "./glance/index.ts";
import { haproxy } from "./haproxy/index.ts";
import { horizon } from "./horizon/index.ts";
import { hostPrep } from "./host-prep/index.ts";
import { instanceHa } from "./instance-ha/index.ts";
import { keepalived } from "./keepalived/index.ts";
import { keystone } from "./keystone/index.ts";
import { memcached } from "./memcached/index.ts";
import { neutron } from "./neutron/index.ts";
import { nova } from "./nova/index.ts";
import { pacemaker } from "./pacemaker/index.ts";
import { placement } from "./placement/index.ts";
import { rabbitmq } from "./rabbitmq/index.ts";
import type { SecretSpec, ServiceDef } from "./types.ts";
import { vip } from "./vip/index.ts";

/**
 * Every service hastack knows, in deploy order. An explicit list (Renovate's registries): adding
 * a service means adding its folder and one line here; engines iterate this and nothing else.
 */
export const services: readonly ServiceDef[] = [
  hostPrep,
  pacemaker,
  haproxy,
  keepalived,
  vip,
  galera,
  rabbitmq,
  memcached,
  etcd,
  keystone,
  glance,
  placement,
  nova,
  neutron,
  cinder,
  horizon,
  instanceHa,
];

export function serviceById(id: string): ServiceDef | undefined {
  return services.find((s) => s.id === id);
}

/** Every secret hastack generates, once each, by name (BMC passwords are the operator's: not here). */
export function secretSpecs(): SecretSpec[] {
  const byName = new Map<string, SecretSpec>();
  for (const service of services) for (const spec of service.secrets ?? []) byName.set(spec.name, spec);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
