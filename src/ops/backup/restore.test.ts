import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { memoryJournal } from "../recovery/act-journal.ts";
import { type Answer, type FakeHost, fakeHost } from "../recovery/fixtures/fake-host.ts";
import { sampleManifest } from "./fixtures.ts";
import { backupRestore } from "./restore.ts";
import type { RestorePlan } from "./restore-plan.ts";
import { RESTORE_STATE_PATH } from "./restore-state.ts";
import type { BackupContext } from "./site.ts";

/**
 * The command's refusals over fake Transports (a real site is the lab's and the real test's):
 * what each controller is asked before the restore stops, and that nothing that changes a host
 * (a stop, a move, a write) is ever sent. The lab site has Ceph: the backups are listed and
 * fetched with rados on the bootstrap controller, ctl1.
 */
const topology = exampleTopology("lab");
const m = sampleManifest();
const STATUS = [
  ["WSREP_LOCAL_STATE", "4"],
  ["WSREP_READY", "ON"],
  ["WSREP_CLUSTER_STATUS", "Primary"],
  ["WSREP_LOCAL_STATE_UUID", m.galera.uuid],
  ["WSREP_LAST_COMMITTED", "9120"],
  ["WSREP_DESYNC", "0"],
]
  .map((r) => r.join("\t"))
  .join("\n");

/** A Synced controller; ctl1 also answers the store's listing (and `parts`: the parts' listing). */
function controller(
  name: string,
  opts: { listing?: string; parts?: string; files?: Record<string, string> } = {},
) {
  // The first key a command line contains answers it: the listing before rados's other calls.
  const answers: Record<string, Answer> = {
    "sort -u": { stdout: opts.listing ?? "" },
    // The spool's room check: room enough (its refusal is backup-real.test.ts's).
    "df -B1": {},
    sha256sum: { stdout: opts.parts ?? "" },
    rados: {},
    "mountpoint -q": { stdout: "mountpoint no\n" },
    "ip -o -4 addr show": { stdout: "" },
    "mariadb -N -B": { stdout: `${STATUS}\n` },
    "rm -rf": {},
  };
  return fakeHost(name, { answers, files: opts.files ?? {} });
}

function site(ctl1: FakeHost, ctl3: FakeHost = controller("ctl3")) {
  const all = [ctl1, controller("ctl2"), ctl3];
  const printed: string[] = [];
  const ctx: BackupContext = {
    topology,
    transport: (host) => {
      const t = all.find((h) => h.name === host);
      if (!t) throw new Error(`no fake ${host}`);
      return t;
    },
    print: (line) => void printed.push(line),
  };
  return { ctx, all, printed };
}

/** Every command any host was sent that would change it. */
function changes(hosts: readonly FakeHost[]): string[] {
  return hosts.flatMap((h) =>
    h.asked
      .filter((l) => /systemctl|galera_new_cluster|mv |mariadb-backup|mbstream|part-0000/.test(l))
      .map((l) => `${h.name}: ${l.replaceAll("\n", " ")}`),
  );
}

const listing = `${m.id} ${JSON.stringify(m)}\n`;

async function refusal(p: Promise<unknown>): Promise<{ code?: string; message?: string; hint?: string }> {
  return p.then(
    () => ({}),
    (e: unknown) => e as { code?: string; message?: string; hint?: string },
  );
}

describe("hastack backup restore, before anything changes", () => {
  it("without --yes: shows the plan, refuses with E_BACKUP_RESTORE_CONFIRM, changes nothing", async () => {
    const { ctx, all } = site(controller("ctl1", { listing }));
    const shown: RestorePlan[] = [];
    const error = await refusal(backupRestore(ctx, { show: (p) => shown.push(p), journal: memoryJournal() }));
    expect(error).toMatchObject({
      code: "E_BACKUP_RESTORE_CONFIRM",
      message: `Cannot restore backup ${m.id}: --yes was not given, and every write after ${m.finishedAt} would be lost`,
    });
    expect(shown.map((p) => [p.id, p.bootstrap, p.join])).toEqual([[m.id, "ctl1", ["ctl2", "ctl3"]]]);
    expect(changes(all)).toEqual([]);
    // What it did read: each controller's restore state.
    expect(all.every((h) => h.asked.includes(`read ${RESTORE_STATE_PATH}`))).toBe(true);
  });

  it("--dry-run: the plan, then nothing", async () => {
    const { ctx, all } = site(controller("ctl1", { listing }));
    const shown: RestorePlan[] = [];
    const result = await backupRestore(ctx, {
      dryRun: true,
      yes: true,
      show: (p) => shown.push(p),
      journal: memoryJournal(),
    });
    expect(result).toBeUndefined();
    expect(shown).toHaveLength(1);
    expect(changes(all)).toEqual([]);
  });

  it("an unknown id, an incomplete backup and no backup at all are E_BACKUP_NOT_FOUND", async () => {
    const run = (id: string | undefined, stored: string) =>
      refusal(
        backupRestore(site(controller("ctl1", { listing: stored })).ctx, {
          ...(id ? { id } : {}),
          yes: true,
          show: () => undefined,
          journal: memoryJournal(),
        }),
      );
    expect(await run("20990101T000000Z", listing)).toMatchObject({
      code: "E_BACKUP_NOT_FOUND",
      message: "Cannot find backup 20990101T000000Z",
    });
    expect(await run("20261205T000000Z", `${listing}20261205T000000Z\n`)).toMatchObject({
      code: "E_BACKUP_NOT_FOUND",
      message:
        "Cannot find backup 20261205T000000Z: it has no manifest (the run that took it did not complete)",
    });
    expect(await run(undefined, "")).toMatchObject({
      message: "Cannot find a complete backup to restore: none is stored",
    });
  });

  it("a controller unreachable: refused before the backups are even listed", async () => {
    const ctl1 = controller("ctl1", { listing });
    const { ctx, all } = site(ctl1, fakeHost("ctl3", { down: true }));
    const error = await refusal(
      backupRestore(ctx, { yes: true, show: () => undefined, journal: memoryJournal() }),
    );
    expect(error).toMatchObject({ code: "E_BACKUP_RESTORE_REFUSED" });
    expect(error.message).toMatch(
      /^Cannot restore a backup: ctl3 cannot be reached \(Cannot connect to ctl3/,
    );
    expect(ctl1.asked.some((l) => l.includes("sort -u"))).toBe(false);
    expect(changes(all)).toEqual([]);
  });

  it("a corrupted part: stops with the part's name after the fetch, before any MariaDB is stopped; the spool is removed", async () => {
    const [p0, p1] = m.parts;
    const parts = `${p0?.name} ${p0?.size} ${p0?.sha256}\n${p1?.name} ${p1?.size} ${"c".repeat(64)}\n`;
    const ctl1 = controller("ctl1", { listing, parts });
    const { ctx, all } = site(ctl1);
    const journal = memoryJournal();
    const error = await refusal(backupRestore(ctx, { yes: true, show: () => undefined, journal }));
    expect(error).toMatchObject({
      code: "E_BACKUP_RESTORE",
      message: `Cannot restore backup ${m.id} on ctl1: check the parts' sha256: differ or missing: part-0001`,
      hint: "nothing was stopped or changed on the controllers; the spool was removed",
    });
    // Fetched (rados get) and listed, then the spool removed: nothing else.
    expect(ctl1.asked.filter((l) => /rados.* get .*part-|sha256sum|rm -rf/.test(l)).length).toBe(3);
    expect(ctl1.asked.at(-1)).toBe(`rm -rf -- /var/tmp/hastack-restore-${m.id}`);
    expect(changes(all).filter((l) => !/rados .* get \S+\/part-/.test(l))).toEqual([]);
    expect(
      journal.entries.map((e) => (e.type === "action" ? `${e.host}: ${e.step} ${e.status}` : e.type)),
    ).toEqual([
      "ctl1: check the room for the restore started",
      "ctl1: check the room for the restore done",
      "ctl1: fetch from Ceph pool hastack-backups started",
      "ctl1: fetch from Ceph pool hastack-backups done",
      "ctl1: check the parts' sha256 started",
      "ctl1: check the parts' sha256 done",
    ]);
  });

  it("a restore state that is not ours is an error naming the file and the host, not a guess", async () => {
    const ctl1 = controller("ctl1", { listing, files: { [RESTORE_STATE_PATH]: '{"format":1,"id":"x"}' } });
    const error = await refusal(
      backupRestore(site(ctl1).ctx, { show: () => undefined, journal: memoryJournal() }),
    );
    expect(error.message).toBe(
      `Cannot plan a restore on ctl1: read ${RESTORE_STATE_PATH}: id: a backup id looks like 20261204T151230Z; role: Invalid option: expected one of "bootstrap"|"join"; aside: Invalid input: expected string, received undefined`,
    );
  });
});
