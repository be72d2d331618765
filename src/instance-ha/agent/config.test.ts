import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hostKey } from "../heartbeat.ts";
import {
  type AgentConfigParts,
  loadAgentConfig,
  parseAgentConfig,
  parseAgentKey,
  renderAgentConfig,
  renderAgentKey,
} from "./config.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function parts(overrides: Partial<AgentConfigParts> = {}): AgentConfigParts {
  return {
    site: "lab",
    host: "cmp1",
    intervalMs: 1000,
    probeIntervalMs: 5000,
    networks: {
      management: { source: "10.20.0.21", targets: [{ address: "10.20.0.11", port: 4950 }] },
      storage: { source: "10.30.0.21", targets: [{ address: "10.30.0.11", port: 4951 }] },
    },
    storageProbes: [{ address: "10.30.0.11", port: 3300 }],
    ...overrides,
  };
}

/** A config and a key file in a scratch directory; the config names the key file. */
function files(keyText: string, config = renderAgentConfig(parts())) {
  const dir = mkdtempSync(join(tmpdir(), "hastack-agent-config-"));
  dirs.push(dir);
  const keyFile = join(dir, "agent.key");
  const configFile = join(dir, "agent.json");
  writeFileSync(keyFile, keyText);
  writeFileSync(configFile, JSON.stringify({ ...JSON.parse(config), key_file: keyFile }));
  return { configFile, keyFile };
}

describe("instance-ha/agent config", () => {
  it("renders a config the agent loads back, defaults applied, with the key from its own file", () => {
    const key = hostKey("site-secret", "lab", "cmp1");
    const { configFile } = files(renderAgentKey(key));

    const settings = loadAgentConfig(configFile);

    expect(settings.key.equals(key)).toBe(true);
    expect(settings).toMatchObject({
      site: "lab",
      host: "cmp1",
      interval_ms: 1000,
      epoch_file: "/var/lib/hastack/agent-epoch",
      boot_id_file: "/proc/sys/kernel/random/boot_id",
      networks: { storage: { source: "10.30.0.21", targets: [{ address: "10.30.0.11", port: 4951 }] } },
      probes: {
        nova_compute_units: ["nova-compute.service"],
        libvirt_units: ["libvirtd.socket"],
        storage: [{ address: "10.30.0.11", port: 3300 }],
      },
    });
  });

  it("refuses a bad key with an error naming the file and what a key is, never quoting the file", () => {
    for (const bad of [
      "",
      "zz".repeat(32),
      "ab".repeat(31),
      `${"ab".repeat(32)}00`,
      "secret-in-the-wrong-file",
    ]) {
      const { configFile, keyFile } = files(bad);
      expect(() => loadAgentConfig(configFile)).toThrow(
        expect.objectContaining({
          code: "E_HA_AGENT_CONFIG",
          message: `Cannot start the instance-HA agent: ${keyFile}: the per-host key is invalid: (top): expected 64 hex digits (32 bytes)`,
        }),
      );
    }
    expect(() => parseAgentKey("secret-in-the-wrong-file")).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining("secret-in-the-wrong-file") }),
    );
  });

  it("says which file is missing", () => {
    const { configFile } = files("ab".repeat(32));
    rmSync(configFile);
    expect(() => loadAgentConfig(configFile)).toThrow(`${configFile}: cannot read it (ENOENT)`);
  });

  it("names every bad field by its path", () => {
    const config = JSON.stringify({
      site: "lab",
      host: "cmp 1",
      networks: { management: { source: "not-an-ip", targets: [] } },
    });
    expect(() => parseAgentConfig(config, "/etc/hastack/agent.json")).toThrow(
      "Cannot start the instance-HA agent: /etc/hastack/agent.json: host: Invalid string: must match pattern /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/; networks.management.source: not an IP address; networks.management.targets: Too small: expected array to have >=1 items; networks.storage: Invalid input: expected object, received undefined",
    );
    expect(() => parseAgentConfig("{", "/x.json")).toThrow(/\/x\.json: not JSON/);
  });

  it("refuses to render a config the agent would refuse", () => {
    expect(() =>
      renderAgentConfig(
        parts({ networks: { ...parts().networks, storage: { source: "10.30.0.21", targets: [] } } }),
      ),
    ).toThrow(/networks\.storage\.targets/);
  });
});
