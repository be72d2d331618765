/**
 * @module
 * `hastack backup schedule`: a systemd service and timer on the machine that runs hastack (the
 * one holding the inventory, the secrets file and the backup key), which run `backup run` at
 * `services.backup.on_calendar`. Persistent: a run missed while the machine was off is taken at
 * its next boot. A randomized delay: sites sharing a store do not start at the same second. The
 * units are written, checked with `systemd-analyze verify` and the timer enabled, or only
 * printed (`--print`).
 */
import type { BackupSettings } from "../../services/galera/backup-settings.ts";
import type { Topology } from "../../topology/types.ts";
import { shellQuoteArg as q } from "../../transport/shell-quote.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";

export const UNIT_DIR = "/etc/systemd/system";

export interface ScheduleSpec {
  /** The site's name: one pair of units per site on a machine. */
  cluster: string;
  /** Absolute path of bin/hastack. */
  hastack: string;
  /** Absolute path of the inventory. */
  inventory: string;
  /** The user the backup runs as: the one whose SSH keys reach the controllers. */
  user: string;
  onCalendar: string;
  randomizedDelayMin: number;
}

/** The site's schedule from its settings; `hastack` is this checkout's bin/hastack. */
export function scheduleSpec(
  topology: Pick<Topology, "cluster" | "source">,
  settings: Pick<BackupSettings, "on_calendar" | "randomized_delay_min">,
  hastack: string,
  user: string,
): ScheduleSpec {
  return {
    cluster: topology.cluster,
    hastack,
    inventory: topology.source,
    user,
    onCalendar: settings.on_calendar,
    randomizedDelayMin: settings.randomized_delay_min,
  };
}

export function unitName(s: Pick<ScheduleSpec, "cluster">): string {
  return `hastack-backup-${s.cluster}`;
}

/**
 * One ExecStart word: double-quoted, with systemd's escapes for `\`, `"`, `%` (its specifiers)
 * and `$` (its variables). A control character cannot be written: refused.
 */
export function execWord(word: string): string {
  if ([...word].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new HastackError(
      "E_BACKUP_SCHEDULE",
      `Cannot write ${JSON.stringify(word)} into a unit: it has a control character`,
    );
  return `"${word.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

export function backupService(s: ScheduleSpec): string {
  return [
    "# Written by `hastack backup schedule`: runs `hastack backup run` for this site.",
    "[Unit]",
    `Description=hastack backup of site ${s.cluster}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `User=${s.user}`,
    `ExecStart=${[s.hastack, "backup", "run", "-i", s.inventory].map(execWord).join(" ")}`,
    // A backup of a large site takes long; a hung run must still end before the next one.
    "TimeoutStartSec=6h",
    "Nice=10",
    "",
  ].join("\n");
}

export function backupTimer(s: ScheduleSpec): string {
  return [
    "# Written by `hastack backup schedule`.",
    "[Unit]",
    `Description=hastack backup of site ${s.cluster} (${s.onCalendar})`,
    "",
    "[Timer]",
    `OnCalendar=${s.onCalendar}`,
    // A run missed while this machine was off is taken when it is back.
    "Persistent=true",
    `RandomizedDelaySec=${s.randomizedDelayMin}min`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

export function scheduleFiles(s: ScheduleSpec, dir = UNIT_DIR): { path: string; content: string }[] {
  return [
    { path: `${dir}/${unitName(s)}.service`, content: backupService(s) },
    { path: `${dir}/${unitName(s)}.timer`, content: backupTimer(s) },
  ];
}

/**
 * Checks OnCalendar before anything is written, writes both units, `systemd-analyze verify`
 * (removed again when it fails), reloads systemd and enables the timer; its next run, as
 * systemd says it.
 */
export async function installSchedule(
  t: Transport,
  s: ScheduleSpec,
): Promise<{ timer: string; next: string }> {
  const name = unitName(s);
  const run = async (what: string, script: string) => {
    const r = await t.exec(["bash", "-c", `set -euo pipefail\n${script}`], { timeoutMs: 60_000 });
    if (r.code !== 0)
      throw new HastackError(
        "E_BACKUP_SCHEDULE",
        `Cannot ${what} on ${t.name}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" / ")}`,
      );
    return r.stdout.trim();
  };
  await run(`use OnCalendar=${s.onCalendar}`, `systemd-analyze calendar ${q(s.onCalendar)} > /dev/null`);
  const files = scheduleFiles(s);
  await t.writeFiles(
    files.map((f) => ({ ...f, data: f.content, opts: { owner: "root", group: "root", mode: 0o644 } })),
  );
  const paths = files.map((f) => q(f.path)).join(" ");
  await run(
    "verify the units",
    `if ! out=$(systemd-analyze verify ${paths} 2>&1); then rm -f ${paths}; echo "$out" >&2; exit 1; fi`,
  );
  const next = await run(
    "enable the timer",
    [
      "systemctl daemon-reload",
      `systemctl enable --now ${q(`${name}.timer`)}`,
      `systemctl show ${q(`${name}.timer`)} -p NextElapseUSecRealtime --value`,
    ].join("\n"),
  );
  return { timer: `${name}.timer`, next };
}
