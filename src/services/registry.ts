import { ceph } from "./ceph/index.ts";
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
import type { ServiceDef } from "./types.ts";
import { vip } from "./vip/index.ts";

/**
 * Every service hastack knows. An explicit list (Renovate's registries): adding a service means
 * adding its folder and one line here. Only the program's entry points import it (src/cli, the
 * benches, tests that compose a site); engines receive the services they work on. Deploy order
 * comes from each service's `after`, not from this list; the list breaks ties.
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
  ceph,
  keystone,
  glance,
  placement,
  nova,
  neutron,
  cinder,
  horizon,
  instanceHa,
];
