import { beforeAll, describe, expect, it } from "vitest";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import {
  DATADIR_FACTS_SCRIPT,
  grastateText,
  moveBackScript,
  parseDatadirFacts,
  parseGaleraInfo,
  setAsideScript,
} from "./restore-scripts.ts";
import { asidePath } from "./restore-state.ts";

const UUID = "809ab62d-f010-11f1-9a72-526733314725";

describe("what the restore reads from a host", () => {
  it("reads mariadb-backup's galera info, with or without the GTID domain, and nothing else", () => {
    // As MariaDB 11.8's mariadb-backup --galera-info wrote it (restore-real.test.ts's run).
    expect(parseGaleraInfo("ctl1", `${UUID}:7 0\n`)).toEqual({ uuid: UUID, seqno: 7 });
    expect(parseGaleraInfo("ctl1", `${UUID}:8391`)).toEqual({ uuid: UUID, seqno: 8391 });
    expect(() => parseGaleraInfo("ctl1", `${UUID}:-1 0`)).toThrow(
      `Cannot read the backup's galera info on ctl1: "${UUID}:-1 0" is not uuid:seqno`,
    );
    expect(() => parseGaleraInfo("ctl1", "")).toThrow("is not uuid:seqno");
  });

  it("writes grastate.dat as Galera does, safe to bootstrap", () => {
    expect(grastateText({ uuid: UUID, seqno: 7 })).toBe(
      `# GALERA saved state\nversion: 2.1\nuuid:    ${UUID}\nseqno:   7\nsafe_to_bootstrap: 1\n`,
    );
  });

  it("reads the datadir facts and refuses output it does not know", () => {
    expect(
      parseDatadirFacts("ctl1", "aside /var/lib/mysql.before-restore-20261204T151230Z\nmountpoint no\n"),
    ).toEqual({
      asides: ["/var/lib/mysql.before-restore-20261204T151230Z"],
      mountpoint: false,
    });
    expect(() => parseDatadirFacts("ctl1", "")).toThrow(
      "Cannot read the datadir facts on ctl1: no mountpoint line",
    );
    expect(() => parseDatadirFacts("ctl1", "mountpoint maybe\n")).toThrow(
      'unexpected line "mountpoint maybe"',
    );
  });

  it("names the next free aside path", () => {
    const base = "/var/lib/mysql.before-restore-20261204T151230Z";
    expect(asidePath("20261204T151230Z", [])).toBe(base);
    expect(asidePath("20261204T151230Z", [base, `${base}.2`])).toBe(`${base}.3`);
  });
});

beforeAll(() => toolRoot());

describe("the restore's datadir scripts in a lab-image container (bash, coreutils, mountpoint)", () => {
  it("moves the datadir aside once, wipes only the fresh one after that, and refuses what it does not expect", async () => {
    const aside = "/var/lib/mysql.before-restore-20261204T151230Z";
    const set = (name = "aside") => `bash /tmp/${name}.sh`;
    const r = await runInImage(
      [
        'echo "== facts"; bash -c "$(cat /tmp/facts.sh)"',
        "mkdir -p /var/lib/mysql/app && echo old > /var/lib/mysql/app/t.ibd",
        `echo "== first rc"; ${set()}; echo $?`,
        `echo "== moved"; cat ${aside}/app/t.ibd; stat -c '%U %a' /var/lib/mysql; ls -A /var/lib/mysql | wc -l`,
        // A cut-short move-back left files in the fresh datadir: a second run wipes them only.
        "echo partial > /var/lib/mysql/ibdata1",
        `echo "== second rc"; ${set()}; echo $?`,
        `echo "== second"; ls -A /var/lib/mysql | wc -l; cat ${aside}/app/t.ibd`,
        `echo "== facts after"; bash -c "$(cat /tmp/facts.sh)"`,
        // The move-back refuses a datadir that is not empty.
        "echo stray > /var/lib/mysql/stray",
        `echo "== move-back rc"; bash /tmp/move-back.sh; echo $?`,
        // An aside path that is a file: refused, the datadir left as it is.
        "echo > /var/lib/mysql.before-restore-x",
        `echo "== file rc"; ${set("x")}; echo $?; cat /var/lib/mysql/stray`,
        // A mount point is never renamed.
        "mkdir -p /var/lib/mysql.m && mount -t tmpfs tmpfs /var/lib/mysql && touch /var/lib/mysql/keep",
        `echo "== mount rc"; ${set("y")}; echo $?; ls /var/lib/mysql`,
        `echo "== facts mount"; bash -c "$(cat /tmp/facts.sh)"`,
      ].join("\n"),
      {
        files: [
          { path: "/tmp/facts.sh", content: DATADIR_FACTS_SCRIPT },
          { path: "/tmp/aside.sh", content: setAsideScript(aside) },
          { path: "/tmp/x.sh", content: setAsideScript("/var/lib/mysql.before-restore-x") },
          { path: "/tmp/y.sh", content: setAsideScript("/var/lib/mysql.before-restore-y") },
          { path: "/tmp/move-back.sh", content: moveBackScript("/var/tmp/spool", { uuid: UUID, seqno: 7 }) },
        ],
        timeoutMs: 60_000,
      },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    const section = (label: string) => {
      const start = r.stdout.indexOf(`== ${label}\n`);
      const end = r.stdout.indexOf("\n== ", start + 1);
      return r.stdout.slice(start + label.length + 4, end < 0 ? undefined : end).trim();
    };
    expect(section("facts"), out).toBe("mountpoint no");
    expect(section("first rc"), out).toBe("0");
    expect(section("moved")).toBe("old\nmysql 755\n0");
    expect(section("second rc")).toBe("0");
    expect(section("second")).toBe("0\nold");
    expect(section("facts after")).toBe(`aside ${aside}\nmountpoint no`);
    expect(section("move-back rc")).toBe("1");
    expect(r.stderr).toContain("/var/lib/mysql is not empty: it was not set aside");
    expect(section("file rc")).toBe("1\nstray");
    expect(r.stderr).toContain("/var/lib/mysql.before-restore-x is not a directory");
    expect(section("mount rc")).toBe("1\nkeep");
    expect(r.stderr).toContain("/var/lib/mysql is a mount point: it cannot be renamed aside");
    expect(section("facts mount")).toBe(
      `aside ${aside}\naside /var/lib/mysql.before-restore-x\nmountpoint yes`,
    );
  }, 120_000);
});
