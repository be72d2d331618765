import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BootedContainer, bootContainer } from "../../testing/booted-container.ts";
import { installSchedule, type ScheduleSpec, UNIT_DIR, unitName } from "./schedule.ts";

/**
 * `hastack backup schedule`'s install for real, into a lab-image container booted with systemd
 * standing for the machine that runs hastack: a stand-in bin/hastack records its arguments.
 * The units pass `systemd-analyze verify`, the timer is enabled with a next run, and the service
 * started by hand runs the stand-in with `backup run -i <inventory>`, a path with a space and a
 * `%` included. An OnCalendar systemd refuses, and a hastack path that is not there, install nothing.
 */
let box: BootedContainer;
const spec: ScheduleSpec = {
  cluster: "lab",
  hastack: "/opt/hastack checkout/bin/hastack",
  inventory: "/srv/sites/lab 100%.yaml",
  user: "root",
  onCalendar: "*-*-* 02:30:00",
  randomizedDelayMin: 30,
};

async function sh(script: string): Promise<{ code: number; out: string }> {
  const r = await box.transport.exec(["bash", "-c", script], { timeoutMs: 60_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

beforeAll(async () => {
  box = await bootContainer("ops");
  // The container has no network for systemd-networkd-wait-online to wait for (it would hold
  // network-online.target, which the service wants, for 2 min); a real machine reaches it.
  expect((await sh("systemctl mask systemd-networkd-wait-online.service")).code).toBe(0);
  await box.transport.writeFile(spec.hastack, '#!/bin/sh\nprintf "%s|" "$@" > /var/tmp/hastack-ran\n', {
    owner: "root",
    group: "root",
    mode: 0o755,
  });
}, 180_000);

afterAll(async () => {
  await box?.stop();
});

describe("hastack backup schedule (systemd in a booted container)", () => {
  it("installs units systemd verifies, enables the timer, and its service runs `backup run -i <inventory>`", async () => {
    const done = await installSchedule(box.transport, spec);
    expect(done.timer).toBe("hastack-backup-lab.timer");
    // 02:30 local (UTC here) plus up to 30 random minutes.
    expect(done.next).toMatch(/ (02:(3\d|[45]\d):\d\d|03:00:00) UTC$/);
    expect((await sh("systemctl is-enabled hastack-backup-lab.timer")).out).toBe("enabled");
    expect((await sh("systemctl list-timers --all --no-pager")).out).toContain("hastack-backup-lab.timer");
    expect(
      (await sh("systemctl show hastack-backup-lab.timer -p Persistent -p RandomizedDelayUSec")).out,
    ).toBe("RandomizedDelayUSec=30min\nPersistent=yes");
    const ran = await sh("systemctl start hastack-backup-lab.service && cat /var/tmp/hastack-ran");
    expect(ran).toEqual({ code: 0, out: "backup|run|-i|/srv/sites/lab 100%.yaml|" });
  }, 120_000);

  it("refuses an OnCalendar systemd refuses and a hastack that is not there, writing nothing", async () => {
    const other = { ...spec, cluster: "other" };
    await expect(
      installSchedule(box.transport, { ...other, onCalendar: "every tuesday-ish" }),
    ).rejects.toThrow(/^Cannot use OnCalendar=every tuesday-ish on ops: .*/);
    await expect(
      installSchedule(box.transport, { ...other, hastack: "/nowhere/bin/hastack" }),
    ).rejects.toThrow(/^Cannot verify the units on ops: .*\/nowhere\/bin\/hastack/);
    expect((await sh(`ls ${UNIT_DIR}/${unitName(other)}.* 2>&1`)).code).not.toBe(0);
  }, 120_000);
});
