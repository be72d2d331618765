import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EngineConfig, loadEngineSecrets } from "../../instance-ha/daemon/config.ts";
import { maskSecrets, materialize } from "../../inventory/secrets.ts";
import { exampleTopology, generatedSecrets } from "../../testing/fixtures.ts";
import { hostByName } from "../../topology/types.ts";
import { services } from "../registry.ts";
import { renderContext } from "../render.ts";
import { engineFiles, renderEngineUnit } from "./engine-files.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("instance-ha engine files", () => {
  const topology = exampleTopology("lab");
  const ctx = renderContext(topology, services);
  const files = engineFiles(ctx, hostByName(topology, "ctl2"));
  const text = (path: string) => {
    const f = files.find((x) => x.path === path);
    if (!f || typeof f.content !== "string") throw new Error(`no ${path}`);
    return f;
  };

  it("the config: this controller's addresses to listen on, every compute with its BMC and addresses, the internal endpoints", () => {
    const config = EngineConfig.parse(JSON.parse(text("/etc/hastack/engine.json").content as string));
    expect(config.node).toBe("ctl2");
    expect(config.listen).toEqual([
      { network: "management", address: "10.20.0.12", port: 4950 },
      { network: "storage", address: "10.21.0.12", port: 4951 },
    ]);
    expect(config.computes.map((c) => [c.name, c.addresses, c.bmc?.address])).toEqual([
      ["cmp1", { management: "10.20.0.21", storage: "10.21.0.21" }, "10.29.0.121"],
      ["cmp2", { management: "10.20.0.22", storage: "10.21.0.22" }, "10.29.0.122"],
    ]);
    expect(config.keystone).toMatchObject({ username: "hastack_ha", project: "service" });
    expect(config.keystone.auth_url).toBe(topology.endpoints.keystone?.internal);
    expect(config.store).toEqual({
      host: "10.20.0.10",
      port: 3306,
      user: "hastack_ha",
      database: "hastack_ha",
    });
    expect(config.ceph).toEqual({
      name: "client.hastack-ha",
      keyring: "/etc/ceph/ceph.client.hastack-ha.keyring",
    });
    expect(config.disks_on_ceph).toBe(true);
    // Nothing secret in the config (0644): placeholders only in the secrets file.
    expect(text("/etc/hastack/engine.json").content).not.toContain("hastack-secret");
    expect(text("/etc/hastack/engine.json").mode).toBe(0o644);
  });

  it("the secrets file is root's alone and, once the writer swaps the values in, is what the engine loads", async () => {
    const secrets = text("/etc/hastack/engine-secrets.json");
    expect(secrets.mode).toBe(0o600);
    const values = generatedSecrets(topology);
    const dir = await mkdtemp(join(tmpdir(), "hastack-engine-"));
    dirs.push(dir);
    await writeFile(join(dir, "s.json"), materialize(secrets.content as string, values));
    const loaded = loadEngineSecrets(join(dir, "s.json"));
    expect(loaded.site_secret).toBe(values.instance_ha_signing_key);
    expect(loaded.store_password).toBe(values.db_hastack_ha);
    expect(loaded.keystone_password).toBe(values.svc_hastack_ha);
    expect(Object.keys(loaded.bmc_passwords)).toEqual(["cmp1", "cmp2"]);
    expect(loaded.bmc_passwords.cmp1).toBe(values.bmc_cmp1);
  });

  it("a BMC password with quotes, backslashes and a newline in it still makes a file the engine loads", async () => {
    const values = { ...generatedSecrets(topology), bmc_cmp1: 'p"a\\s\ns{}' };
    const dir = await mkdtemp(join(tmpdir(), "hastack-engine-"));
    dirs.push(dir);
    const content = text("/etc/hastack/engine-secrets.json").content as string;
    await writeFile(join(dir, "s.json"), materialize(content, values));
    expect(loadEngineSecrets(join(dir, "s.json")).bmc_passwords.cmp1).toBe('p"a\\s\ns{}');
    // Plans and diffs show the placeholder masked, the encoding not at all.
    expect(maskSecrets(content)).toContain('"cmp1": "<secret:bmc_cmp1>"');
  });

  it("the unit is never restarted by a file change (that would start an engine on every controller)", () => {
    for (const f of files) expect(f.onChange).toBeUndefined();
    expect(renderEngineUnit()).not.toContain("[Install]");
    expect(renderEngineUnit()).toContain("Restart=no");
  });
});
