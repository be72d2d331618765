import { describe, expect, it } from "vitest";
import { materialize, secretsIn } from "../inventory/secrets.ts";
import { exampleTopology, generatedSecrets } from "../testing/fixtures.ts";
import { secretSpecs } from "./registry.ts";
import { renderTopology } from "./render.ts";

const topologies = [
  exampleTopology("lab"),
  exampleTopology("runbook-9-node"),
  exampleTopology("lab", (inv) => {
    inv.vip_manager = "keepalived";
  }),
];

describe("secrets in rendered files", () => {
  it("declares every secret the issue lists, each name once", () => {
    const names = secretSpecs().map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      "db_root",
      "db_keystone",
      "db_glance",
      "db_placement",
      "db_nova",
      "db_neutron",
      "db_cinder",
      "rabbitmq_openstack",
      "keystone_admin",
      "svc_glance",
      "svc_placement",
      "svc_nova",
      "svc_neutron",
      "svc_cinder",
      "erlang_cookie",
      "corosync_authkey",
      "hacluster_password",
      "haproxy_stats",
      "instance_ha_signing_key",
      "galera_sst",
      "galera_check",
      "metadata_proxy_secret",
      "horizon_secret_key",
      "memcache_secret_key",
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each(topologies.map((t, i) => [i, t] as const))(
    "never carry a value, only placeholders (topology %i)",
    (_i, topology) => {
      const secrets = generatedSecrets(topology);
      const files = [...renderTopology(topology).files.values()].flat();
      const known = new Set(Object.keys(secrets));
      let used = 0;
      for (const file of files) {
        for (const [name, value] of Object.entries(secrets)) {
          if (file.text.includes(value))
            throw new Error(`${file.host}:${file.path} contains the value of ${name}`);
        }
        for (const name of secretsIn(file.text)) {
          expect(known, `${file.path} refers to ${name}`).toContain(name);
          used++;
        }
        // Every file can be written for real: nothing refers to a secret that does not exist.
        const text = materialize(file.text, secrets);
        if (file.encoding === "base64") expect(Buffer.from(text, "base64")).toHaveLength(256);
      }
      expect(used).toBeGreaterThan(0);
    },
  );

  it("keeps files holding secrets private", () => {
    const topology = topologies[0] ?? exampleTopology("lab");
    for (const file of [...renderTopology(topology).files.values()].flat()) {
      if (secretsIn(file.text).length > 0) expect(file.mode & 0o007, file.path).toBe(0);
    }
  });
});
