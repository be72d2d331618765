/**
 * Issue #11's case on the lab: all three controllers power-cut, two powered back, the third not.
 * With the missing controller's BMC hung, `hastack recover` refuses and changes nothing; with it
 * answering "off", recover bootstraps Galera from the highest seqno, force-boots RabbitMQ and
 * starts the cluster stack, and every check of the two survivors comes back with the row written
 * before the cut still there. The third, powered on later, rejoins Galera and RabbitMQ by itself
 * (its cluster stack stays off at boot by design: recover starts it), and every quorum queue has
 * its three members online again.
 *
 * The time recover takes is a figure of `npm run bench:lab`'s kind, printed here, never asserted.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { hastackSync, type LabCliResult } from "../../testing/lab-cli.ts";
import { checkState, degradedOnlyBy, type StatusRun, statusUntil } from "../../testing/status-until.ts";

const CONTROLLERS = ["ctl1", "ctl2", "ctl3"] as const;
const SURVIVORS = ["ctl1", "ctl2"] as const;
const LOST = "ctl3";

let lab: LabHandle;

function log(line: string): void {
  process.stderr.write(`[recover e2e] ${line}\n`);
}

async function sh(host: string, script: string): Promise<string> {
  const r = await lab.ssh(host, ["sh", "-c", script]);
  expect(r.code, `${host}: ${script}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

function until(what: string, good: (s: StatusRun) => boolean, timeoutMs: number) {
  return statusUntil(lab.inventoryPath, what, good, timeoutMs, log);
}

function recover(...args: string[]): LabCliResult {
  const r = hastackSync(["recover", "-i", lab.inventoryPath, ...args], 900_000);
  log(`recover ${args.join(" ")}: exit ${r.code} in ${r.seconds.toFixed(1)} s`);
  return r;
}

const canarySql = (id: string) => `mariadb -N -e "SELECT id FROM hastack_e2e.canary WHERE id = ${id}"`;

beforeAll(async () => {
  lab = await useLab((line) => process.stderr.write(`${line}\n`));
  for (const args of [
    ["secrets", "init", "-i", lab.inventoryPath],
    ["deploy", "-i", lab.inventoryPath, "--quiet"],
  ]) {
    const r = hastackSync(args);
    expect(r.code, r.out).toBe(0);
  }
});

describe("hastack recover on the lab: all controllers cut, two back", () => {
  it("refuses while the lost one's BMC hangs, then recovers from the highest seqno with no write lost; the lost one rejoins", async () => {
    const canary = String(Date.now());
    await sh(
      "ctl1",
      [
        "mariadb -e 'CREATE DATABASE IF NOT EXISTS hastack_e2e'",
        "mariadb -e 'CREATE TABLE IF NOT EXISTS hastack_e2e.canary (id BIGINT PRIMARY KEY)'",
        `mariadb -e 'INSERT INTO hastack_e2e.canary VALUES (${canary})'`,
      ].join(" && "),
    );

    // A site power loss: all three at once, through their BMCs.
    await Promise.all(CONTROLLERS.map((h) => lab.power(h, "off")));
    for (const h of CONTROLLERS) expect(await lab.powerState(h)).toBe("off");
    await Promise.all(SURVIVORS.map((h) => lab.power(h, "on")));
    for (const h of SURVIVORS) expect(await lab.waitForSsh(h, 180_000), `${h} back on SSH`).toBeDefined();

    // The lost controller's BMC does not answer: its power is unknown, nothing is safe.
    await lab.hangBmc(LOST, true);
    try {
      const refused = recover("--yes");
      expect(refused.code, refused.out).toBe(3);
      expect(refused.out).toMatch(/Galera: REFUSED/);
      expect(refused.out).toContain(LOST);
      expect(refused.out).toMatch(/Refused \(exit 3\)/);
      // Nothing changed: no survivor was marked safe to bootstrap.
      for (const h of SURVIVORS)
        expect(await sh(h, "grep '^safe_to_bootstrap' /var/lib/mysql/grastate.dat")).toBe(
          "safe_to_bootstrap: 0",
        );
    } finally {
      await lab.hangBmc(LOST, false);
    }

    const dry = recover("--dry-run");
    expect(dry.code, dry.out).toBe(2);
    const chosen = /Galera: bootstrap from (ctl\d) \(seqno (\d+)\)/.exec(dry.out);
    expect(chosen, dry.out).not.toBeNull();
    const seqnos = [...dry.out.matchAll(/^ {2}(ctl\d) .* seqno (\d+)/gm)].map((m) => Number(m[2]));
    expect(Number(chosen?.[2])).toBe(Math.max(...seqnos));

    // A recovery may take more than one round (quorum queues are repaired once RabbitMQ runs).
    let done = recover("--yes");
    for (let round = 2; done.code === 2 && round <= 3; round += 1) done = recover("--yes");
    expect(done.code, done.out).toBe(0);

    await until("the site degraded only by the lost controller", degradedOnlyBy(LOST, SURVIVORS), 300_000);
    for (const h of SURVIVORS) expect(await sh(h, canarySql(canary))).toBe(canary);

    // The lost one's power supply replaced: it rejoins Galera and RabbitMQ without a command.
    await lab.power(LOST, "on");
    expect(await lab.waitForSsh(LOST, 180_000)).toBeDefined();
    await until(
      `${LOST} back in Galera and RabbitMQ by itself`,
      (s) => ["galera.node", "rabbitmq.cluster"].every((id) => checkState(s, `${id}@${LOST}`) === "ok"),
      300_000,
    );
    expect(await sh(LOST, canarySql(canary))).toBe(canary);
    // Its cluster stack is off at boot (a fenced node must not rejoin by itself): recover starts it.
    const rejoin = recover("--yes");
    expect(rejoin.code, rejoin.out).toBe(0);
    await until("healthy", (s) => s.code === 0, 300_000);
    const queues = JSON.parse(
      await sh("ctl1", "rabbitmqctl list_queues -q -p /openstack name type online --formatter json"),
    ) as { name: string; type: string; online: string[] }[];
    const short = queues.filter((q) => q.type === "quorum" && q.online.length !== 3);
    expect(short.map((q) => `${q.name}: ${q.online.join(",")}`)).toEqual([]);
    expect(queues.filter((q) => q.type === "quorum").length).toBeGreaterThan(0);
    await sh("ctl1", `mariadb -e 'DELETE FROM hastack_e2e.canary WHERE id = ${canary}'`);
  });
});
