import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../hostkit/ipmi-sim-fixture.ts";
import { type Container, startContainer } from "../services/openstack/test-container.ts";
import { toolRoot } from "../testing/real-tools.ts";
import { fenceEvent, fenceHost } from "./fence.ts";
import { localIpmi } from "./power-fence.ts";
import {
  blocklistHost,
  liftStorageFence,
  parseBlocklist,
  readBlocklist,
  type StorageFenceDeps,
  splitJsonValues,
} from "./storage-fence.ts";

/**
 * The storage fence against a real Ceph 18: one monitor (the blocklist lives in the OSD map,
 * which the monitors keep; no OSD or manager is needed) in a lab-image container, started in
 * ~30 s. `ceph` runs in it through a Transport, as the engine runs it on a controller. Every
 * assertion on the blocklist reads it again with the plain `ceph` command line, not with the
 * code under test.
 */
const SETUP = String.raw`
FSID=$(cat /proc/sys/kernel/random/uuid)
mkdir -p /etc/ceph /run/ceph /tmp/mon
printf '[global]\nfsid = %s\nmon_host = v2:127.0.0.1:3300\nmon_data = /tmp/mon/data\n' "$FSID" >/etc/ceph/ceph.conf
ceph-authtool --create-keyring /tmp/mon/keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring /etc/ceph/ceph.client.admin.keyring --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool /tmp/mon/keyring --import-keyring /etc/ceph/ceph.client.admin.keyring >/dev/null
monmaptool --create --fsid "$FSID" --addv a v2:127.0.0.1:3300 /tmp/mon/monmap >/dev/null
ceph-mon --mkfs -i a --monmap /tmp/mon/monmap --keyring /tmp/mon/keyring
ceph-mon -i a
ceph --connect-timeout 30 -s >/dev/null
`;

let box: Container;
let admin: StorageFenceDeps;

beforeAll(async () => {
  await toolRoot();
  box = await startContainer("ctl1", SETUP, { hostname: "ctl1", timeoutMs: 600_000 });
  admin = { runner: box.transport, expireSeconds: 7200 };
}, 300_000);

afterAll(async () => {
  await box?.stop();
});

/** The blocklist as `ceph osd blocklist ls` prints it for people: one `addr until` line each. */
async function listed(): Promise<string[]> {
  const r = await box.transport.exec(["ceph", "osd", "blocklist", "ls"]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.split(" ")[0] ?? "");
}

describe("the storage fence against a real Ceph monitor", () => {
  it("blocklists each whole address, and confirms it from the read-back", async () => {
    const done = await blocklistHost("cmp1", ["10.21.0.41", "10.21.0.141"], admin);
    expect(done.addresses).toEqual(["10.21.0.41", "10.21.0.141"]);
    expect(done.entries.map((e) => e.addr)).toEqual(["10.21.0.41:0/0", "10.21.0.141:0/0"]);
    expect((await listed()).sort()).toEqual(["10.21.0.141:0/0", "10.21.0.41:0/0"]);
    // Expiry as asked: about two hours from now (the container shares this machine's clock).
    for (const e of done.entries) {
      const left = Date.parse(e.until.replace(/(\d{2})(\d{2})$/, "$1:$2")) - Date.now();
      expect(left).toBeGreaterThan(7000_000);
      expect(left).toBeLessThanOrEqual(7200_000);
    }
  });

  it("lifts only its own entries, confirms they are gone, and a second lift is harmless", async () => {
    // Another client's instance entry (what rbd's lock breaking leaves) stays.
    const other = await box.transport.exec(["ceph", "osd", "blocklist", "add", "10.21.0.99:0/4242", "600"]);
    expect(other.code, other.stderr).toBe(0);
    await liftStorageFence("cmp1", ["10.21.0.41", "10.21.0.141"], admin);
    expect(await listed()).toEqual(["10.21.0.99:0/4242"]);
    await liftStorageFence("cmp1", ["10.21.0.41", "10.21.0.141"], admin);
    expect(await listed()).toEqual(["10.21.0.99:0/4242"]);
  });

  it("refuses an address that is not IPv4, before any change", async () => {
    const before = await listed();
    await expect(blocklistHost("cmp1", ["10.21.0.41", "cmp1.storage"], admin)).rejects.toMatchObject({
      code: "E_HA_STORAGE_ADDRESS",
      message: "Cannot fence the storage of cmp1: not an IPv4 address: cmp1.storage",
    });
    await expect(blocklistHost("cmp1", [], admin)).rejects.toMatchObject({ code: "E_HA_STORAGE_ADDRESS" });
    expect(await listed()).toEqual(before);
  });

  it("works as a dedicated client allowed only to read and blocklist (--id and keyring)", async () => {
    const keyring = "/etc/ceph/ceph.client.hastack-fence.keyring";
    const made = await box.transport.exec([
      "ceph",
      "auth",
      "get-or-create",
      "client.hastack-fence",
      "mon",
      'allow r, allow command "osd blocklist"',
      "-o",
      keyring,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const fence: StorageFenceDeps = { ...admin, id: { name: "client.hastack-fence", keyring } };
    await blocklistHost("cmp2", ["10.21.0.42"], fence);
    expect(await listed()).toContain("10.21.0.42:0/0");
    await liftStorageFence("cmp2", ["10.21.0.42"], fence);
    expect(await listed()).not.toContain("10.21.0.42:0/0");
    // Without the blocklist command in its caps, the monitor refuses: the fence is not confirmed.
    await box.transport.exec(["ceph", "auth", "caps", "client.hastack-fence", "mon", "allow r"]);
    await expect(blocklistHost("cmp2", ["10.21.0.42"], fence)).rejects.toMatchObject({
      code: "E_CEPH",
      message: expect.stringMatching(
        /^Cannot blocklist 10\.21\.0\.42 \(cmp2\) on ctl1: exit code 13: .*denied/i,
      ),
    });
    expect(await listed()).not.toContain("10.21.0.42:0/0");
  });
});

describe("fenceHost when the BMC does not answer, with a real Ceph monitor", () => {
  it("fences the storage instead, confirmed in the blocklist, and says only VMs on Ceph may move", async () => {
    const silent = {
      address: "127.0.0.1",
      port: await freeUdpPort(),
      user: "admin",
      lanplus: true,
      cipherSuite: 3,
    };
    const result = await fenceHost(
      { host: "cmp3", bmc: silent, storageAddresses: ["10.21.0.43"] },
      { ipmi: localIpmi, bmcPassword: () => "bmc-pw-4711", storage: admin },
    );
    expect(result).toMatchObject({ ok: true, method: "storage" });
    expect(result.detail).toMatch(
      /^cmp3 fenced: 10\.21\.0\.43 blocklisted in Ceph \(BMC 127\.0\.0\.1:\d+ did not answer .*\); only VMs on Ceph may be evacuated$/,
    );
    expect(result.attempts.at(-1)).toMatch(
      /^storage fence cmp3: confirmed in the OSD blocklist: 10\.21\.0\.43:0\/0 until /,
    );
    expect(await listed()).toContain("10.21.0.43:0/0");
    expect(fenceEvent(result)).toEqual({ kind: "fence-confirmed", method: "storage" });
    await liftStorageFence("cmp3", ["10.21.0.43"], admin);
    expect(await listed()).not.toContain("10.21.0.43:0/0");
  });

  it("reports not fenced when Ceph refuses, naming the host and Ceph's words", async () => {
    const fence: StorageFenceDeps = {
      ...admin,
      id: { name: "client.nobody", keyring: "/etc/ceph/ceph.client.nobody.keyring" },
      timeoutMs: 20_000,
    };
    const result = await fenceHost(
      { host: "cmp4", storageAddresses: ["10.21.0.44"] },
      {
        ipmi: localIpmi,
        bmcPassword: () => undefined,
        storage: fence,
      },
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /^Cannot fence cmp4: it has no BMC in the inventory, and the storage fence failed: Cannot blocklist 10\.21\.0\.44 \(cmp4\) on ctl1: exit code \d+/,
    );
    expect(await listed()).not.toContain("10.21.0.44:0/0");
    expect((await readBlocklist(admin)).map((e) => e.addr)).not.toContain("10.21.0.44:0/0");
  });
});

describe("a storage fence that cannot be confirmed leaves no trace if it can help it", () => {
  it("undoes its entries when the read-back is unreadable (one answer garbled on the way)", async () => {
    // The Ceph is real; the one fault is injected on the way back: the first `ls` answer is lost.
    let garbled = 0;
    const runner: StorageFenceDeps["runner"] = {
      name: "ctl1",
      exec: async (argv, opts) => {
        const line = Array.isArray(argv) ? argv.join(" ") : argv;
        if (line.includes("blocklist ls") && garbled++ === 0) {
          return { code: 0, stdout: "listed 1 entries", stderr: "", durationMs: 0 };
        }
        return box.transport.exec(argv, opts);
      },
    };
    const result = await fenceHost(
      { host: "cmp5", storageAddresses: ["10.21.0.45"] },
      { ipmi: localIpmi, bmcPassword: () => undefined, storage: { ...admin, runner } },
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /storage fence failed: Cannot read ceph osd blocklist ls's answer on ctl1: no JSON array \(undone: none of its addresses is in the blocklist\); nothing was evacuated$/,
    );
    expect(await listed()).not.toContain("10.21.0.45:0/0");
  });

  it("says its entries may remain when it cannot read the blocklist back (a client without read caps)", async () => {
    const keyring = "/etc/ceph/ceph.client.blind-fence.keyring";
    const made = await box.transport.exec([
      "ceph",
      "auth",
      "get-or-create",
      "client.blind-fence",
      "mon",
      'allow command "osd blocklist"',
      "-o",
      keyring,
    ]);
    expect(made.code, made.stderr).toBe(0);
    const blind: StorageFenceDeps = { ...admin, id: { name: "client.blind-fence", keyring } };
    const result = await fenceHost(
      { host: "cmp6", storageAddresses: ["10.21.0.46"] },
      { ipmi: localIpmi, bmcPassword: () => undefined, storage: blind },
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(
      /Cannot read the OSD blocklist on ctl1: exit code 13: .*its addresses may remain/,
    );
    // The add and the undoing rm went through (the caps allow both), only the read-backs were
    // refused: the entry is gone, but nothing confirmed it, so the detail can say no more.
    expect(result.attempts).toContainEqual(expect.stringMatching(/^storage fence cmp6: cannot undo it: /));
    expect(await listed()).not.toContain("10.21.0.46:0/0");
  });
});

describe("ceph osd blocklist ls --format json as Ceph 18.2.7 prints it", () => {
  // Recorded from the monitor above: the blocklist, then the range blocklist, back to back.
  const recorded =
    '[{"addr":"10.0.0.6:0/123","until":"2026-12-03T15:52:32.424925+0000"},{"addr":"10.0.0.5:0/0","until":"2026-12-03T16:51:29.805953+0000"}][]';

  it("reads the first of the two arrays", () => {
    expect(splitJsonValues(recorded)).toHaveLength(2);
    expect(parseBlocklist({ name: "ctl1" }, recorded).map((e) => e.addr)).toEqual([
      "10.0.0.6:0/123",
      "10.0.0.5:0/0",
    ]);
    expect(parseBlocklist({ name: "ctl1" }, "[]\n[]\n")).toEqual([]);
  });

  it("refuses an answer that is not the documented one", () => {
    expect(() => parseBlocklist({ name: "ctl1" }, "listed 2 entries")).toThrow(/no JSON array/);
    expect(() => parseBlocklist({ name: "ctl1" }, '[{"address":"10.0.0.5:0/0"}]')).toThrow(
      /Cannot read ceph osd blocklist ls's answer on ctl1/,
    );
  });
});
