import { describe, expect, it } from "vitest";
import { services } from "../services/registry.ts";
import { loadTopology } from "../topology/load.ts";
import { storeOptions } from "./store-connect.ts";
import { siteStoreOptions } from "./store-site.ts";

describe("the site's history database options", () => {
  it("point at the database VIP as the engine's user, with its password from the secrets", async () => {
    const topology = await loadTopology("examples/lab.yaml", services);
    const o = storeOptions(siteStoreOptions(topology, { db_hastack_ha: "pw-1", db_nova: "other" }, "ctl2"));
    expect(o).toMatchObject({
      host: topology.vips.services.galera ?? "10.20.0.10",
      port: 3306,
      user: "hastack_ha",
      password: "pw-1",
      database: "hastack_ha",
      engine: "ctl2",
      create: true,
    });
    expect(o.socketPath).toBeUndefined();
  });

  it("without the engine's password is an error naming the secret and the file, not a login as nobody", async () => {
    const topology = await loadTopology("examples/lab.yaml", services);
    expect(() => siteStoreOptions(topology, { db_nova: "other" })).toThrow(
      expect.objectContaining({
        code: "E_HA_STORE_CONNECT",
        message: `Cannot open the history database hastack_ha: the secrets file ${topology.secretsFile} has no db_hastack_ha`,
      }),
    );
  });
});
