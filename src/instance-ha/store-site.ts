/**
 * @module
 * Where a site's instance-HA history database is, from its inventory and secrets: the database
 * VIP (HAProxy in front of Galera, as every OpenStack service connects), the engine's own user and
 * database, and that user's password from the secrets file. One mapping for the engine daemon
 * and for `hastack ha status` / `ha history` on the deploying machine.
 */
import { hostname } from "node:os";
import type { SecretValues } from "../inventory/secrets-file.ts";
import { secretNames } from "../services/openstack/oslo.ts";
import { type Topology, vipFor } from "../topology/types.ts";
import { HastackError } from "../util/errors.ts";
import { HA_DATABASE, HA_USER, type StoreOptions } from "./store-connect.ts";

/** The service whose VIP fronts MariaDB (a per-service VIP when the site has one, else the internal VIP). */
const DATABASE_SERVICE = "galera";

/**
 * The store's options for this site. `engine` is the name stamped on what is written (a reader
 * writes nothing; the daemon passes its node name). Port 3306 is the store's default.
 */
export function siteStoreOptions(
  topology: Topology,
  secrets: Readonly<SecretValues>,
  engine: string = hostname(),
): StoreOptions {
  const secret = secretNames(HA_USER).database;
  const password = secrets[secret];
  if (password === undefined)
    throw new HastackError(
      "E_HA_STORE_CONNECT",
      `Cannot open the history database ${HA_DATABASE}: the secrets file ${topology.secretsFile} has no ${secret}`,
      { hint: "hastack secrets init -i FILE adds it, and the instance-ha deploy creates the user with it" },
    );
  return {
    host: vipFor(topology, DATABASE_SERVICE),
    user: HA_USER,
    password,
    database: HA_DATABASE,
    engine,
  };
}
