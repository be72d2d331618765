import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedHost, Topology } from "../topology/types.ts";
import { LocalTransport } from "../transport/local-transport.ts";
import { checkFencePaths, fenceFailureLines, unfenceable } from "./fence-paths.ts";
import { freeUdpPort, type IpmiSim, startIpmiSim } from "./ipmi-sim-fixture.ts";

const PASSWORDS = { bmc_ctl1: "pw-one-1111", bmc_ctl2: "pw-two-2222", bmc_ctl3: "pw-three-3333" };
const sims: IpmiSim[] = [];

/** Three controllers whose BMCs are real ipmi_sims on loopback; commands run here (LocalTransport). */
function site(ports: number[]): Topology {
  const hosts = ["ctl1", "ctl2", "ctl3"].map(
    (name, i) =>
      ({
        name,
        roles: ["controller"],
        bmc: {
          address: "127.0.0.1",
          port: ports[i],
          user: "admin",
          password_secret: `bmc_${name}`,
          driver: "ipmi",
          lanplus: true,
          cipher_suite: 3,
        },
      }) as unknown as ResolvedHost,
  );
  return { hosts } as unknown as Topology;
}

function check(topology: Topology, secrets: Record<string, string>) {
  return checkFencePaths({
    topology,
    secret: (name) => secrets[name],
    exec: (host, argv, opts) => new LocalTransport({ name: host }).exec(argv, opts),
  });
}

beforeAll(async () => {
  for (const pw of Object.values(PASSWORDS)) sims.push(await startIpmiSim(pw));
});

afterAll(async () => {
  for (const s of sims) await s.stop();
});

describe("fence paths against real BMCs (ipmi_sim)", () => {
  it("checks each controller against every other controller's BMC, and all pass", async () => {
    const paths = await check(site(sims.map((s) => s.bmc.port)), PASSWORDS);
    expect(paths.map((p) => `${p.from}->${p.target}`).sort()).toEqual([
      "ctl1->ctl2",
      "ctl1->ctl3",
      "ctl2->ctl1",
      "ctl2->ctl3",
      "ctl3->ctl1",
      "ctl3->ctl2",
    ]);
    expect(paths.filter((p) => !p.ok)).toEqual([]);
    expect(fenceFailureLines(paths)).toEqual([]);
  });

  it("names the host, its BMC and the refused password, never the password", async () => {
    const wrong = { ...PASSWORDS, bmc_ctl3: "not-the-password" };
    const paths = await check(site(sims.map((s) => s.bmc.port)), wrong);
    expect(unfenceable(paths)).toEqual(["ctl3"]);
    const lines = fenceFailureLines(paths);
    expect(lines).toEqual([
      "Cannot fence ctl3 from ctl1, ctl2: BMC 127.0.0.1 refused the password of user admin",
    ]);
    expect(JSON.stringify(paths)).not.toContain("not-the-password");
  });

  it("tells an unreachable BMC and a missing secret apart", async () => {
    const ports = sims.map((s) => s.bmc.port);
    ports[1] = await freeUdpPort();
    const { bmc_ctl1: _, ...secrets } = PASSWORDS;
    const paths = await check(site(ports), secrets);
    const reasons = Object.fromEntries(paths.filter((p) => !p.ok).map((p) => [p.target, p.failure]));
    expect(reasons).toEqual({ ctl1: "no-secret", ctl2: "unreachable" });
  });
});
