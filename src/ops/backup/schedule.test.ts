import { describe, expect, it } from "vitest";
import { backupService, backupTimer, execWord, scheduleFiles, scheduleSpec } from "./schedule.ts";

const spec = scheduleSpec(
  { cluster: "lab", source: "/srv/lab/site.yaml" },
  { on_calendar: "Mon..Fri 01:15", randomized_delay_min: 45 },
  "/opt/hastack/bin/hastack",
  "ops",
);

describe("backup schedule units", () => {
  it("a oneshot service running `backup run -i <inventory>` as the user, and a persistent timer with a random delay", () => {
    expect(backupService(spec)).toContain(
      'User=ops\nExecStart="/opt/hastack/bin/hastack" "backup" "run" "-i" "/srv/lab/site.yaml"\n',
    );
    expect(backupService(spec)).toContain("Type=oneshot\n");
    expect(backupTimer(spec)).toContain(
      "[Timer]\nOnCalendar=Mon..Fri 01:15\nPersistent=true\nRandomizedDelaySec=45min\n\n[Install]\nWantedBy=timers.target\n",
    );
    expect(scheduleFiles(spec).map((f) => f.path)).toEqual([
      "/etc/systemd/system/hastack-backup-lab.service",
      "/etc/systemd/system/hastack-backup-lab.timer",
    ]);
  });

  it("escapes what systemd would read as specifiers, variables or quotes, and refuses control characters", () => {
    expect(execWord('/a b/100%/$HOME/"q"\\')).toBe('"/a b/100%%/$$HOME/\\"q\\"\\\\"');
    expect(() => execWord("/a\nb")).toThrow(/control character/);
  });
});
