/**
 * Issue #11's opt-in automatic mode on the lab: `hastack recover --auto` watches a healthy site;
 * all three controllers are power-cut and two come back while the third's BMC hangs. The watcher
 * holds, changing nothing, while that BMC cannot say the third is off; once it answers "off",
 * the watcher recovers the two by itself (Galera from the highest seqno, RabbitMQ, the cluster
 * stack) with the row written before the cut kept. The third, powered on later, comes back whole
 * with no command: Galera and RabbitMQ by themselves, its cluster stack started by the watcher.
 *
 * Times are printed (figures of `npm run bench:lab`'s kind), never asserted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LabHandle, useLab } from "../../lab/testing.ts";
import { CLI, hastackSync } from "../../testing/lab-cli.ts";
import { degradedOnlyBy, type StatusRun, statusUntil } from "../../testing/status-until.ts";

const CONTROLLERS = ["ctl1", "ctl2", "ctl3"] as const;
const SURVIVORS = ["ctl1", "ctl2"] as const;
const LOST = "ctl3";

let lab: LabHandle;
let watcher: ChildProcess | undefined;
/** The watcher's stdout lines, each with the time it was read. */
const lines: { at: number; text: string }[] = [];

function log(line: string): void {
  process.stderr.write(`[recover --auto e2e] ${line}\n`);
}

async function sh(host: string, script: string): Promise<string> {
  const r = await lab.ssh(host, ["sh", "-c", script]);
  expect(r.code, `${host}: ${script}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

function until(what: string, good: (s: StatusRun) => boolean, timeoutMs: number) {
  return statusUntil(lab.inventoryPath, what, good, timeoutMs, log);
}

/** The first watcher line after `since` matching `pattern`, waited for up to `timeoutMs`. */
async function line(
  pattern: RegExp,
  since: number,
  timeoutMs: number,
): Promise<{ at: number; text: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((l) => l.at >= since && pattern.test(l.text));
    if (found) return found;
    if (Date.now() > deadline || watcher?.exitCode !== null)
      expect.fail(
        `no watcher line ${pattern} within ${timeoutMs / 1000} s; it printed:\n${lines.map((l) => l.text).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const canarySql = (id: string) => `mariadb -N -e "SELECT id FROM hastack_e2e.canary WHERE id = ${id}"`;

beforeAll(async () => {
  lab = await useLab((l) => process.stderr.write(`${l}\n`));
  for (const args of [
    ["secrets", "init", "-i", lab.inventoryPath],
    ["deploy", "-i", lab.inventoryPath, "--quiet"],
  ]) {
    const r = hastackSync(args);
    expect(r.code, r.out).toBe(0);
  }
});

afterAll(async () => {
  watcher?.kill("SIGTERM");
  await lab?.hangBmc(LOST, false).catch(() => undefined);
});

describe("hastack recover --auto on the lab: all controllers cut, two back, the third later", () => {
  it("holds while the lost one's BMC hangs, then recovers the two by itself; the third rejoins with no command", async () => {
    const canary = String(Date.now());
    await sh(
      "ctl1",
      [
        "mariadb -e 'CREATE DATABASE IF NOT EXISTS hastack_e2e'",
        "mariadb -e 'CREATE TABLE IF NOT EXISTS hastack_e2e.canary (id BIGINT PRIMARY KEY)'",
        `mariadb -e 'INSERT INTO hastack_e2e.canary VALUES (${canary})'`,
      ].join(" && "),
    );

    const started = Date.now();
    watcher = spawn(process.execPath, [
      CLI,
      ...["recover", "-i", lab.inventoryPath, "--auto", "--interval", "5", "--settle", "5"],
    ]);
    let partial = "";
    watcher.stdout?.on("data", (d: Buffer) => {
      const parts = (partial + d.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) {
        lines.push({ at: Date.now(), text });
        if (/recover --auto: /.test(text)) log(text.replace(/^\S+ recover --auto: /, "watcher: "));
      }
    });
    watcher.stderr?.on("data", (d: Buffer) => log(`watcher stderr: ${d.toString().trim()}`));
    await line(/recover --auto: idle: nothing to do/, started, 120_000);

    // A site power loss; the lost one's BMC hangs before the two are back, so the watcher never
    // reads "off" from it while a survivor answers (with none answering it cannot act at all).
    await Promise.all(CONTROLLERS.map((h) => lab.power(h, "off")));
    await lab.hangBmc(LOST, true);
    await Promise.all(SURVIVORS.map((h) => lab.power(h, "on")));
    const poweredOn = Date.now();
    for (const h of SURVIVORS) expect(await lab.waitForSsh(h, 180_000), `${h} back on SSH`).toBeDefined();
    const held = await line(
      /hold: recover refuses\. Galera: ctl3 is unreachable and its power state is unknown/,
      poweredOn,
      180_000,
    );
    log(`held ${Math.round((held.at - poweredOn) / 1000)} s after power-on`);
    // Three more rounds at least: still nothing changed.
    await new Promise((r) => setTimeout(r, 20_000));
    expect(lines.filter((l) => l.at >= poweredOn && /recover --auto: act:/.test(l.text))).toEqual([]);
    for (const h of SURVIVORS)
      expect(await sh(h, "grep '^safe_to_bootstrap' /var/lib/mysql/grastate.dat")).toBe(
        "safe_to_bootstrap: 0",
      );

    // The BMC answers again, "off": the watcher acts by itself.
    await lab.hangBmc(LOST, false);
    const answered = Date.now();
    const acted = await line(/recover --auto: act: /, answered, 180_000);
    log(
      `acted ${Math.round((acted.at - answered) / 1000)} s after the BMC answered, ${Math.round((acted.at - poweredOn) / 1000)} s after power-on`,
    );
    expect(acted.text).toMatch(/Galera: bootstrap ctl[12] \(seqno \d+/);
    const ended = await line(/recover --auto: idle: the recovery ended with exit code/, acted.at, 600_000);
    log(`recovery ended ${Math.round((ended.at - acted.at) / 1000)} s after it started: ${ended.text}`);

    await until("the site degraded only by the lost controller", degradedOnlyBy(LOST, SURVIVORS), 300_000);
    log(`degraded only by ${LOST} ${Math.round((Date.now() - acted.at) / 1000)} s after the watcher acted`);
    for (const h of SURVIVORS) expect(await sh(h, canarySql(canary))).toBe(canary);

    // The third back: no command at all, the watcher starts its cluster stack.
    await lab.power(LOST, "on");
    const back = Date.now();
    expect(await lab.waitForSsh(LOST, 180_000)).toBeDefined();
    const started3 = await line(/recover --auto: act: .*cluster stack: start on ctl3/, back, 300_000);
    log(
      `the watcher started ${LOST}'s cluster stack ${Math.round((started3.at - back) / 1000)} s after its power-on`,
    );
    await until("healthy", (s) => s.code === 0, 300_000);
    log(`healthy ${Math.round((Date.now() - back) / 1000)} s after ${LOST}'s power-on`);
    expect(await sh(LOST, canarySql(canary))).toBe(canary);
    const queues = JSON.parse(
      await sh("ctl1", "rabbitmqctl list_queues -q -p /openstack name type online --formatter json"),
    ) as { name: string; type: string; online: string[] }[];
    const short = queues.filter((q) => (q.type === "quorum" || q.type === "stream") && q.online.length !== 3);
    expect(short.map((q) => `${q.name}: ${q.online.join(",")}`)).toEqual([]);

    // Stopped as a service is: SIGTERM ends the watch after its round.
    watcher.kill("SIGTERM");
    await line(/recover --auto: stopped/, back, 120_000);
    await sh("ctl1", `mariadb -e 'DELETE FROM hastack_e2e.canary WHERE id = ${canary}'`);
  });
});
