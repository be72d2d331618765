// How busy the machine's cores were over a window of a run, and where that CPU went: a child
// process appends /proc/stat's busy and total jiffies once a second, and the jiffies each consumer
// (bench/cpu-split.ts's consumerOf: "cmp2/qemu-system-x86_64", "ctl1/neutron-api", "host/node")
// used since the previous second (a child, because the bench's own event loop is blocked in
// spawnSync while a drill runs). On the lab every host shares these cores, so a window at ~100 %
// says the run waited for CPU, whatever the software did; the consumers say whose work it was.
// bench/cpu-split.ts describes the file and reads it.
//
// Cost (2026-12-05, this 2-core machine, the lab deployed and busy, load 16-18): the sampler alone
// for 60 s used 0.65 % of a core with the lab's ~390 processes (~1,900 threads), and 1.1-1.5 %
// with 1,100 idle processes added (1,500 in all), by its threads' schedstat and its utime+stime
// alike. Listing /proc alone costs 0.46 % of that; hence the sleepers read less often (mustRead)
// and each stat file kept open. A 10-minute run's file is ~0.3 MB.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import { consumerOf, readSamples, windowOf } from "./cpu-split.ts";

export function startCpuSampler(file: string): () => void {
  fs.writeFileSync(file, "");
  // The sampler is this module's runCpuSampler in a child of its own (Node strips the types).
  const main = `import(${JSON.stringify(import.meta.url)}).then((m) => m.runCpuSampler(process.argv[1]))`;
  const child: ChildProcess = spawn(process.execPath, ["-e", main, file], {
    stdio: ["pipe", "ignore", "inherit"],
  });
  return () => child.kill("SIGTERM");
}

/** The share (0..100) of the cores busy between two times, from the samples nearest them; undefined without two. */
export function busyShare(file: string, from: Date, to: Date): number | undefined {
  const { rows } = readSamples(file);
  const window = windowOf(rows, from, to);
  const a = window && rows[window[0]];
  const b = window && rows[window[1]];
  return a && b ? (100 * (b.busy - a.busy)) / (b.total - a.total) : undefined;
}

export interface Stat {
  comm: string;
  ppid: number;
  /** utime + stime (fields 14, 15): the process's own jiffies, all its threads. */
  own: number;
  /** cutime + cstime (fields 16, 17): its children's, once it has reaped them. */
  reaped: number;
  /** Field 22, the start time: a reused pid has another. */
  start: number;
}

const FIELDS: Record<number, keyof Stat> = {
  4: "ppid",
  14: "own",
  15: "own",
  16: "reaped",
  17: "reaped",
  22: "start",
};

/**
 * A /proc/<pid>/stat line, its first n bytes in buf. comm may hold spaces and parentheses: the
 * fields start after the last ')'. Read from the bytes, without a string per field.
 */
export function parseStat(buf: Buffer, n = buf.length): Stat {
  let close = n - 1;
  while (close > 0 && buf[close] !== 0x29) close--;
  const comm = buf.toString("latin1", buf.indexOf(0x28) + 1, close);
  const stat: Stat = { comm, ppid: 0, own: 0, reaped: 0, start: 0 };
  let field = 4;
  let value = 0;
  for (let i = close + 4; i <= n && field <= 22; i++) {
    const c = i < n ? (buf[i] as number) : 0x20;
    if (c === 0x20) {
      const key = FIELDS[field];
      if (key) (stat[key] as number) += value;
      field++;
      value = 0;
    } else value = value * 10 + c - 0x30;
  }
  return stat;
}

interface Seen extends Stat {
  pid: number;
  consumer: number;
  /** The last count that listed it. */
  tick: number;
  /** Jiffies of exited children already counted, not yet seen in `reaped`. */
  owed: number;
  /** Reads in a row that found it unchanged. */
  quiet: number;
}

/** What the sampler remembers from one second to the next. */
export interface Tally {
  tick: number;
  procs: Map<number, Seen>;
  ids: Map<string, number>;
}

export function newTally(): Tally {
  return { tick: 0, procs: new Map(), ids: new Map() };
}

/** A process unchanged in 3 reads in a row is read every SLEEPER_EVERY seconds only. */
const SLEEPER_EVERY = 8;

/**
 * Whether this second's count must read a process's stat. Most processes sleep, and reading each
 * every second cost 2.1 % of a core with 1,500 processes (1.1 % so): one unchanged in 3 reads is
 * read every SLEEPER_EVERY seconds (by pid, so as many each second), and what it uses after
 * waking counts up to 7 s late, which moves little across the ends of a window of a minute or
 * two. But one owed an exited child's count is read (its cutime must be compared now), and so is
 * one whose parent is gone (it was reparented: its ppid must be read before it exits in its turn).
 */
export function mustRead(t: Tally, pid: number): boolean {
  const p = t.procs.get(pid);
  if (!p || p.quiet < 3 || p.owed > 0 || (t.tick + pid) % SLEEPER_EVERY === 0) return true;
  return p.ppid > 0 && (t.procs.get(p.ppid)?.tick ?? 0) < t.tick - 1;
}

/**
 * One second's count from the processes listed now (a stat, or undefined when mustRead said it
 * need not be read): the jiffies each consumer used since the previous count, and the consumers
 * named for the first time. A process is named (`nameOf` reads its cmdline and cgroup) once, and
 * again only when its comm changes (an exec) or its pid is reused.
 *
 * A process's jiffies are its own and, once reaped, its children's (cutime, cstime): a child that
 * lived less than a second (pacemaker's monitors, an ssh session's commands) is never seen, and
 * counts under the parent that reaped it. A child that was seen counts under its own name until
 * its last sample; what it used after that (up to a second: acceptable) counts under its parent,
 * or nowhere when the parent ignores SIGCHLD (the kernel then adds it to no one's cutime).
 */
export function count(
  t: Tally,
  listed: Iterable<[number, Stat | undefined]>,
  nameOf: (pid: number, stat: Stat) => string,
): { named: [number, string][]; used: Map<number, number> } {
  t.tick++;
  const named: [number, string][] = [];
  const read: [Seen, Stat][] = [];
  for (const [pid, stat] of listed) {
    let p = t.procs.get(pid);
    if (!stat) {
      if (p) p.tick = t.tick;
      continue;
    }
    const same = p !== undefined && p.start === stat.start;
    if (!p || !same || p.comm !== stat.comm) {
      const consumer = nameOf(pid, stat);
      let id = t.ids.get(consumer);
      if (id === undefined) {
        id = t.ids.size;
        t.ids.set(consumer, id);
        named.push([id, consumer]);
      }
      // An exec keeps its counts; a new process starts from 0, but on the first count every
      // process is old, and what it used before is no one's.
      const from = same && p ? p : t.tick === 1 ? stat : { own: 0, reaped: 0, owed: 0 };
      const kept = { own: from.own, reaped: from.reaped, owed: same && p ? p.owed : 0 };
      p = { ...stat, ...kept, pid, consumer: id, tick: t.tick, quiet: 0 };
      t.procs.set(pid, p);
    }
    p.tick = t.tick;
    read.push([p, stat]);
  }
  // An exited process's count so far lands in its reaper's cutime: owed by its nearest living ancestor.
  const gone: Seen[] = [];
  for (const p of t.procs.values()) if (p.tick !== t.tick) gone.push(p);
  const credited = new Set<number>();
  for (const p of gone) {
    let up = t.procs.get(p.ppid);
    for (let hops = 0; up && up.tick !== t.tick && hops < 100; hops++) up = t.procs.get(up.ppid);
    if (!up) continue;
    up.owed += p.own + p.reaped + p.owed;
    credited.add(up.pid);
  }
  for (const p of gone) t.procs.delete(p.pid);
  const used = new Map<number, number>();
  for (const [p, stat] of read) {
    const reaped = stat.reaped - p.reaped;
    const jiffies = Math.max(0, stat.own - p.own) + Math.max(0, reaped - p.owed);
    // What a read does not find yet is kept for the next (the reaper may be read before its
    // wait(), and the child after it), then forgotten (a parent that ignores SIGCHLD).
    p.owed = credited.has(p.pid) ? Math.max(0, p.owed - reaped) : 0;
    p.quiet = stat.own === p.own && reaped === 0 && stat.comm === p.comm ? p.quiet + 1 : 0;
    Object.assign(p, stat);
    if (jiffies > 0) used.set(p.consumer, (used.get(p.consumer) ?? 0) + jiffies);
  }
  return { named, used };
}

/** Reads a /proc file from its start into `buf`: its length, or undefined once its process is gone. */
function pread(fd: number, buf: Buffer): number | undefined {
  try {
    return fs.readSync(fd, buf, 0, buf.length, 0);
  } catch {
    return undefined;
  }
}

function readProc(file: string, buf: Buffer): string {
  try {
    const fd = fs.openSync(file, "r");
    try {
      return buf.toString("latin1", 0, pread(fd, buf) ?? 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}

/**
 * Every process's /proc/<pid>/stat this second, each file kept open from one second to the next:
 * here a read of an open one costs about 5 us, an open+read+close 13-20 us. A process gone (or a
 * pid reused: another process) fails the read, and its file is closed, or reopened for the new
 * process. Run inside count(), whose tick is this second's.
 */
function* listStats(t: Tally, open: Map<number, { fd: number; tick: number }>, buf: Buffer) {
  for (const name of fs.readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    let file = open.get(pid);
    if (file && !mustRead(t, pid)) {
      file.tick = t.tick;
      yield [pid, undefined] as [number, Stat | undefined];
      continue;
    }
    let n = file && pread(file.fd, buf);
    if (file && n === undefined) {
      fs.closeSync(file.fd);
      open.delete(pid);
      file = undefined;
    }
    if (!file) {
      try {
        file = { fd: fs.openSync(`/proc/${name}/stat`, "r"), tick: t.tick };
      } catch {
        continue;
      }
      n = pread(file.fd, buf);
      // Past a few thousand, read and close: the sampler stays under any limit on open files.
      if (n === undefined || open.size >= 4000) fs.closeSync(file.fd);
      else open.set(pid, file);
    }
    file.tick = t.tick;
    if (n !== undefined) yield [pid, parseStat(buf, n)] as [number, Stat | undefined];
  }
  for (const [pid, file] of open)
    if (file.tick !== t.tick) {
      fs.closeSync(file.fd);
      open.delete(pid);
    }
}

/** The child's loop (startCpuSampler runs it): one sample a second until its stdin closes. */
export function runCpuSampler(out: string): void {
  const hz = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  const fd = fs.openSync(out, "a");
  fs.writeSync(fd, `hz ${hz}\n`);
  // The bench holds the other end of stdin: killed, it closes it, and this sampler ends with it.
  process.stdin.on("end", () => process.exit(0)).resume();
  const buf = Buffer.alloc(8192);
  const tally = newTally();
  const open = new Map<number, { fd: number; tick: number }>();
  const nameOf = (pid: number, stat: Stat) =>
    consumerOf(stat.comm, readProc(`/proc/${pid}/cmdline`, buf), readProc(`/proc/${pid}/cgroup`, buf));
  const sample = () => {
    const at = Date.now();
    const v = readProc("/proc/stat", buf).split("\n")[0]?.split(/\s+/).slice(1, 9).map(Number) ?? [];
    const total = v.reduce((a, b) => a + b, 0);
    const { named, used } = count(tally, listStats(tally, open, buf), nameOf);
    let text = named.map(([id, name]) => `c ${id} ${name}\n`).join("");
    text += `${at} ${total - (v[3] ?? 0) - (v[4] ?? 0)} ${total}`;
    for (const [id, j] of used) text += ` ${id}:${j}`;
    fs.writeSync(fd, `${text}\n`);
  };
  sample();
  setInterval(sample, 1000);
}
