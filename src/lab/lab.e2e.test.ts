import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { parseInventory } from "../testing/fixtures.ts";
import { run } from "./exec.ts";
import { BRIDGE_MACS, bridgeMac } from "./network.ts";
import { LAB_NETNS, labDir } from "./paths.ts";
import { LAB_NETWORKS, type LabNetwork } from "./plan.ts";
import { type LabHandle, useLab } from "./testing.ts";

const CLI = path.resolve(import.meta.dirname, "../cli/main.ts");

function hastack(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
}

// Runs ipmitool on a controller against a BMC; the password travels on stdin, never in argv.
async function ipmiFromController(lab: LabHandle, target: string, password: string, action: string[]) {
  const bmc = lab.host(target).bmcAddress;
  const script = `read -r IPMI_PASSWORD; export IPMI_PASSWORD; exec ipmitool -I lanplus -C 3 -H ${bmc} -U admin -E ${action.join(" ")}`;
  return lab.ssh("ctl1", ["sh", "-c", script], `${password}\n`);
}

// Any of three answers counts (ping exits 0 on one reply): one lost packet on a host that has
// just booted is not an unreachable address.
async function pingsFrom(lab: LabHandle, from: string, address: string): Promise<boolean> {
  const result = await lab.ssh(from, ["ping", "-c", "3", "-i", "0.3", "-W", "1", address]);
  return result.code === 0;
}

let lab: LabHandle;

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
});

describe("the lab", () => {
  it("runs the default site: 8 hosts", () => {
    const status = hastack("lab", "status", "--json");
    expect(status.status).toBe(0);
    const parsed = JSON.parse(status.stdout) as { hosts: { name: string; power: string }[] };
    expect(parsed.hosts.map((h) => `${h.name}:${h.power}`)).toEqual(
      ["ctl1", "ctl2", "ctl3", "cmp1", "cmp2", "sto1", "sto2", "sto3"].map((n) => `${n}:on`),
    );
  });

  it("writes an inventory the schema accepts", async () => {
    const inv = parseInventory(YAML.parse(await fs.readFile(lab.inventoryPath, "utf8")));
    expect(Object.keys(inv.hosts)).toHaveLength(8);
    const secrets = await fs.stat(path.join(labDir(), "inventory.secrets.yaml"));
    expect(secrets.mode & 0o777).toBe(0o600);
  });

  it("lab ssh ctl1 -- hostname", () => {
    const result = hastack("lab", "ssh", "ctl1", "--", "hostname");
    expect(result.stdout.trim()).toBe("ctl1");
    expect(result.status).toBe(0);
  });

  it("every host resolves and pings every other on management", async () => {
    const names = lab.plan.hosts.map((h) => h.name);
    const script = `for h in ${names.join(" ")}; do ping -c1 -W1 $h >/dev/null || echo "unreachable $h"; done`;
    const results = await Promise.all(names.map((n) => lab.ssh(n, ["sh", "-c", script])));
    for (const [i, result] of results.entries()) {
      expect(`${names[i]}: ${result.stdout.trim()}`).toBe(`${names[i]}: `);
    }
  });

  it("has no default route, in the namespace or on any host", async () => {
    const ns = await run("ip", ["-n", LAB_NETNS, "route", "show", "default"]);
    expect(ns.code).toBe(0);
    expect(ns.stdout.trim()).toBe("");
    const onHost = await lab.ssh("cmp1", ["ip", "route", "show", "default"]);
    expect(onHost.stdout.trim()).toBe("");
  });

  it("gives every bridge its fixed, locally administered MAC", async () => {
    for (const net of Object.keys(BRIDGE_MACS) as LabNetwork[]) {
      const mac = await bridgeMac(LAB_NETWORKS[net].bridge);
      // 3: set by hand; 1 would mean taken from a port, and changing when that port goes away.
      expect(`${net}: ${mac.address} ${mac.assignType}`).toBe(`${net}: ${BRIDGE_MACS[net]} 3`);
      expect(Number.parseInt(mac.address.slice(0, 2), 16) & 0b11).toBe(0b10);
    }
  });

  it("powers a compute off and on through IPMI from a controller", async () => {
    const password = await lab.bmcPassword("cmp1");
    const address = lab.host("cmp1").addresses.management ?? "";
    const macsBefore = await Promise.all(["br-mgmt", "br-stor", "br-prov"].map(bridgeMac));
    // A connection from ctl1 to cmp1's sshd, held open: a pulled plug sends no FIN, so it must
    // stay open until \`timeout\` ends it (exit 124); a FIN would end the read with 0.
    const hold = `exec 3<>/dev/tcp/${address}/22 && timeout 8 cat <&3 >/dev/null; echo $? > /tmp/held-rc`;
    await lab.ssh("ctl1", [
      "sh",
      "-c",
      `rm -f /tmp/held-rc; setsid bash -c '${hold}' >/dev/null 2>&1 < /dev/null &`,
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    const off = await ipmiFromController(lab, "cmp1", password, ["chassis", "power", "off"]);
    expect(off.code).toBe(0);
    // A bridge's MAC must not follow its ports: a host going away would move every address on it.
    expect(await Promise.all(["br-mgmt", "br-stor", "br-prov"].map(bridgeMac))).toEqual(macsBefore);
    // Measured from the moment ipmitool returned: the first ping that times out (200 ms) ends it.
    const probe = `s=$(date +%s%N); while ping -c1 -W0.2 ${address} >/dev/null 2>&1; do :; done; echo $(( ($(date +%s%N) - s) / 1000000 ))`;
    const stopped = await lab.ssh("ctl1", ["sh", "-c", probe]);
    expect(Number(stopped.stdout.trim())).toBeLessThan(1000);
    const status = await ipmiFromController(lab, "cmp1", password, ["chassis", "power", "status"]);
    expect(status.stdout).toContain("Chassis Power is off");
    const held = await lab.ssh("ctl1", [
      "sh",
      "-c",
      "for i in $(seq 100); do [ -s /tmp/held-rc ] && break; sleep 0.1; done; cat /tmp/held-rc",
    ]);
    expect(held.stdout.trim()).toBe("124");

    const started = Date.now();
    const on = await ipmiFromController(lab, "cmp1", password, ["chassis", "power", "on"]);
    expect(on.code).toBe(0);
    const back = await lab.waitForSsh("cmp1", 20_000);
    expect(back).toBeDefined();
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("refuses wrong BMC credentials", async () => {
    const wrongPassword = await ipmiFromController(lab, "cmp2", "not-the-password", [
      "chassis",
      "power",
      "status",
    ]);
    expect(wrongPassword.code).not.toBe(0);
    expect(wrongPassword.stdout).not.toContain("Chassis Power");
    const right = await ipmiFromController(lab, "cmp2", await lab.bmcPassword("cmp2"), [
      "chassis",
      "power",
      "status",
    ]);
    expect(right.stdout).toContain("Chassis Power is on");
  });

  it("lab cut cmp1 --net storage stops only storage pings; lab heal restores them", async () => {
    const cmp1 = lab.host("cmp1");
    expect(hastack("lab", "cut", "cmp1", "--net", "storage").status).toBe(0);
    try {
      expect(await pingsFrom(lab, "ctl1", cmp1.addresses.storage ?? "")).toBe(false);
      expect(await pingsFrom(lab, "ctl1", cmp1.addresses.management ?? "")).toBe(true);
      expect(await pingsFrom(lab, "ctl1", cmp1.addresses.provider ?? "")).toBe(true);
    } finally {
      expect(hastack("lab", "heal", "cmp1").status).toBe(0);
    }
    expect(await pingsFrom(lab, "ctl1", cmp1.addresses.storage ?? "")).toBe(true);
  });

  it("re-executes a command for the lab inventory inside the lab namespace", () => {
    const netns = path.resolve(import.meta.dirname, "netns.ts");
    const script = [
      `import { enterLabNamespaceIfNeeded, inLabNamespace } from ${JSON.stringify(netns)};`,
      "await enterLabNamespaceIfNeeded(process.argv[1]);",
      "console.log(await inLabNamespace());",
      "process.exitCode = 3;",
    ].join("\n");
    const inLab = spawnSync(process.execPath, ["--input-type=module", "-e", script, lab.inventoryPath], {
      encoding: "utf8",
    });
    expect(inLab.stdout.trim()).toBe("true");
    expect(inLab.status).toBe(3);
    const other = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", script, "/tmp/not-the-lab.yaml"],
      {
        encoding: "utf8",
      },
    );
    expect(other.stdout.trim()).toBe("false");
  });

  it("lab up again is a no-op", () => {
    const result = hastack("lab", "up");
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("already up");
  });
});
