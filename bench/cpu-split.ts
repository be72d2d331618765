// Reads the CPU sampler's file (bench/cpu-share.ts writes it) and says where a window's CPU went:
// CPU-seconds per consumer ("cmp2/qemu-system-x86_64", "ctl1/neutron-api", "host/node"), beside
// the machine's busy and available CPU-seconds; and names the consumer a process counts under
// (consumerOf, for the sampler). Pure but for reading the file, so a test can feed it known numbers.
//
// The file, one record a line (a line counts only once its newline is written, so a reader racing
// the sampler never takes half a number):
//   hz 100                          jiffies per second (getconf CLK_TCK), first
//   c 7 cmp2/qemu-system-x86_64     consumer 7's name, before the first sample that uses it
//   1733400000123 5120 10240 7:187 3:12
//                                   a sample: epoch ms, /proc/stat's busy and total jiffies so far
//                                   (every core), then the jiffies each consumer used since the
//                                   previous sample (consumers that used none are left out)
import fs from "node:fs";
import path from "node:path";

export interface Sample {
  at: number;
  busy: number;
  total: number;
  /** [consumer id, jiffies since the previous sample]. */
  used: [number, number][];
}

export interface Samples {
  hz: number;
  names: Map<number, string>;
  rows: Sample[];
}

export function readSamples(file: string): Samples {
  const samples: Samples = { hz: 100, names: new Map(), rows: [] };
  // The last piece has no newline yet (empty when the file ends with one): the sampler may be mid-write.
  for (const line of fs.readFileSync(file, "utf8").split("\n").slice(0, -1)) {
    const words = line.split(" ");
    if (words[0] === "hz") samples.hz = Number(words[1]);
    else if (words[0] === "c") samples.names.set(Number(words[1]), words.slice(2).join(" "));
    else if (/^\d+$/.test(words[0] ?? "") && words.length >= 3) {
      const used = words.slice(3).map((w) => w.split(":").map(Number) as [number, number]);
      samples.rows.push({ at: Number(words[0]), busy: Number(words[1]), total: Number(words[2]), used });
    }
  }
  return samples;
}

/**
 * The samples nearest two times, as indexes into rows; undefined without two distinct ones in
 * order. busyShare and cpuSplit both take their window from here, so their figures agree.
 */
export function windowOf(rows: readonly Sample[], from: Date, to: Date): [number, number] | undefined {
  const near = (t: number) =>
    rows.reduce((best, r, i) => {
      const b = rows[best];
      return b === undefined || Math.abs(r.at - t) < Math.abs(b.at - t) ? i : best;
    }, -1);
  const a = near(from.getTime());
  const b = near(to.getTime());
  const ra = rows[a];
  const rb = rows[b];
  if (!ra || !rb || b <= a || rb.total <= ra.total) return undefined;
  return [a, b];
}

export interface Consumer {
  name: string;
  cpuS: number;
}

export interface CpuSplit {
  /** Between the two samples nearest the window's ends. */
  seconds: number;
  /** Busy CPU-seconds of the whole machine (every core), from /proc/stat. */
  usedS: number;
  /** Cores x seconds, from /proc/stat (idle included). */
  availableS: number;
  /** Each consumer's CPU-seconds in the window, most first; consumers that used none are left out. */
  consumers: Consumer[];
}

/** Where the CPU went between two times (the samples nearest them); undefined without two. */
export function cpuSplit(file: string, from: Date, to: Date): CpuSplit | undefined {
  const { hz, names, rows } = readSamples(file);
  const window = windowOf(rows, from, to);
  if (!window) return undefined;
  const [a, b] = window;
  const first = rows[a] as Sample;
  const last = rows[b] as Sample;
  // Each sample holds what was used since the previous one, so the window is the samples after a, up to b.
  const jiffies = new Map<string, number>();
  for (const row of rows.slice(a + 1, b + 1))
    for (const [id, used] of row.used) {
      const name = names.get(id) ?? `consumer ${id}`;
      jiffies.set(name, (jiffies.get(name) ?? 0) + used);
    }
  return {
    seconds: (last.at - first.at) / 1000,
    usedS: (last.busy - first.busy) / hz,
    availableS: (last.total - first.total) / hz,
    consumers: sortConsumers([...jiffies].map(([name, j]) => ({ name, cpuS: j / hz }))),
  };
}

function sortConsumers(consumers: Consumer[]): Consumer[] {
  return consumers.filter((c) => c.cpuS > 0).sort((x, y) => y.cpuS - x.cpuS || x.name.localeCompare(y.name));
}

/** The same consumers summed over the lab's hosts: "qemu-system-x86_64" for every compute's guests. */
export function byCommand(consumers: readonly Consumer[]): Consumer[] {
  const sums = new Map<string, number>();
  for (const { name, cpuS } of consumers) {
    const command = name.slice(name.indexOf("/") + 1);
    sums.set(command, (sums.get(command) ?? 0) + cpuS);
  }
  return sortConsumers([...sums].map(([name, cpuS]) => ({ name, cpuS })));
}

/**
 * Two lines for the bench: the top consumers per host, then per command over every host. "not
 * in a process" is the machine's busy time that no process accounts for: interrupts, and what
 * exited processes used after their last sample when no sampled parent reaped them. A few tenths
 * below 0 is the skew of one sample's reads (/proc/stat first, then every process's over ~20 ms).
 */
export function formatCpuSplit(split: CpuSplit, top = 8): string {
  const s = (n: number) => n.toFixed(1);
  const list = (consumers: readonly Consumer[]) => {
    const shown = consumers.slice(0, top).map((c) => `${c.name} ${s(c.cpuS)}`);
    const rest = consumers.slice(top);
    if (rest.length > 0)
      shown.push(`the rest (${rest.length}) ${s(rest.reduce((sum, c) => sum + c.cpuS, 0))}`);
    return shown.join(", ");
  };
  const accounted = split.consumers.reduce((sum, c) => sum + c.cpuS, 0);
  return (
    `cpu in the window (${s(split.seconds)} s, ${s(split.usedS)} of ${s(split.availableS)} CPU-s used, ` +
    `${s(split.usedS - accounted)} not in a process): ${list(split.consumers)}\n` +
    `  by command over every host: ${list(byCommand(split.consumers))}`
  );
}

// A consumer is "<lab member>/<command>": the member is the process's cgroup under hastack-lab
// (the lab host ctl1..sto3, whose nspawn container and everything in it live there, or a lab
// daemon's, e.g. bmc-cmp2), and "host" for any other process of this machine. Read once per
// process from /proc/<pid>/cgroup, whatever the layout (cgroup2, or hybrid like this machine).

// Scripts run by an interpreter all have its name: their own tells the OpenStack services apart.
const INTERPRETER = /^(python[\d.]*|perl|ruby|node|sh|bash|dash)$/;
// A script's name that says nothing alone: its directory says more (cli/main.ts, agent/main.ts).
const GENERIC = /^(main|index|__main__)\.\w+$/;

/**
 * The consumer a process counts under, from its comm, its /proc/<pid>/cmdline (NUL-separated) and
 * its /proc/<pid>/cgroup, as seen on the lab:
 * - a script: its name, whether argv[0] is the interpreter (`python3 /usr/bin/nova-conductor`,
 *   `node src/cli/main.ts`) or the interpreter is in a title the process set itself
 *   (`neutron-server: rpc worker (/usr/bin/python3 /usr/bin/neutron-rpc-server ...)`);
 * - uwsgi (Keystone, nova-api, nova-api-metadata, placement-api, cinder-api and neutron-api
 *   run one uwsgi_python3 each): its --ini, `/etc/nova/nova-api-uwsgi.ini` -> nova-api;
 * - a kernel thread (no cmdline): its comm without the per-CPU part, kworker/1:2H -> kworker;
 * - anything else: its comm, or argv[0]'s name when the comm is cut at 15 characters
 *   (qemu-system-x86 -> qemu-system-x86_64, pacemaker-contr -> pacemaker-controld).
 */
export function consumerOf(comm: string, cmdline: string, cgroup: string): string {
  const member = /\/hastack-lab\/([^/\n]+)/.exec(cgroup)?.[1] ?? "host";
  return `${member}/${commandOf(comm, cmdline).replace(/\s/g, "_") || "?"}`;
}

function commandOf(comm: string, cmdline: string): string {
  // A title a process set itself is one string: its words are split like arguments.
  const words = cmdline.split(/[\0\s]+/).filter(Boolean);
  const exe = path.basename(words[0] ?? "").replace(/:$/, "");
  if (words.length === 0) return comm.split("/")[0] ?? comm;
  if (exe.startsWith("uwsgi")) {
    const ini = words.includes("--ini") ? words[words.indexOf("--ini") + 1] : undefined;
    if (!ini) return exe;
    // Keystone's is /etc/keystone/hastack-uwsgi.ini: its directory names it.
    const [dir, name] = [path.basename(path.dirname(ini)), path.basename(ini).replace(/(-uwsgi)?\.ini$/, "")];
    return name.startsWith(dir) ? name : dir;
  }
  const at = INTERPRETER.test(exe)
    ? 0
    : words.findIndex((w) => w.startsWith("(") && INTERPRETER.test(path.basename(w.slice(1))));
  if (at >= 0) return scriptOf(words, at) ?? path.basename((words[at] as string).replace(/^\(/, ""));
  const short = (comm.split(/\s/)[0] ?? comm).replace(/:$/, "");
  return comm.length >= 15 && exe.startsWith(short) ? exe : short;
}

/** `python3 -u /usr/bin/nova-conductor ...` -> nova-conductor, `python3 -m mod` -> mod; undefined for -c/-e. */
function scriptOf(words: readonly string[], interpreter: number): string | undefined {
  for (let i = interpreter + 1; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "-m") return words[i + 1];
    if (word === "-c" || word === "-e") return undefined;
    if (word.startsWith("-")) continue;
    const script = word.replace(/^\(|\)$/g, "");
    const name = path.basename(script);
    return GENERIC.test(name) ? `${path.basename(path.dirname(script))}/${name}` : name;
  }
  return undefined;
}
