import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { busyShare, count, mustRead, newTally, parseStat, type Stat, startCpuSampler } from "./cpu-share.ts";
import { consumerOf, cpuSplit, formatCpuSplit } from "./cpu-split.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hastack-cpu-"));
  dirs.push(dir);
  return path.join(dir, name);
}

describe("the sampler's parts", () => {
  it("reads utime+stime, cutime+cstime, ppid and start after the last ')' of a /proc/<pid>/stat line", () => {
    const line = "4242 (a) b (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 31 7 3 20 0 4 0 98765 1000 10 1";
    expect(parseStat(Buffer.from(`${line}\n`))).toEqual({
      comm: "a) b (c",
      ppid: 17,
      own: 281,
      reaped: 10,
      start: 98765,
    });
    expect(parseStat(Buffer.from(line)).start).toBe(98765);
  });

  it("names a consumer by its lab host and command, as the lab's processes show themselves", () => {
    const ctl1 = "0::/hastack-lab/ctl1/payload/system.slice/neutron-api.service\n";
    const hybrid =
      "9:name=systemd:/hastack-lab/cmp2/payload/machine.slice/x.scope\n0::/hastack-lab/cmp2/payload\n";
    const cases: [comm: string, argv: string, cgroup: string, consumer: string][] = [
      [
        "nova-conductor",
        "/usr/bin/python3\0/usr/bin/nova-conductor\0--config-file=x\0",
        ctl1,
        "ctl1/nova-conductor",
      ],
      [
        "python3",
        "/usr/bin/python3\0-u\0/usr/local/lib/hastack/galera-check.py\0",
        ctl1,
        "ctl1/galera-check.py",
      ],
      ["python3", "python3\0-m\0http.server\0", "0::/user.slice\n", "host/http.server"],
      // setproctitle: one string, and the comm cut from it.
      [
        "neutron-server:",
        "neutron-server: rpc worker (/usr/bin/python3 /usr/bin/neutron-rpc-server --config-file=x)\0",
        ctl1,
        "ctl1/neutron-rpc-server",
      ],
      [
        "/usr/bin/python",
        "/usr/bin/python3 /usr/bin/neutron-periodic-workers --log-file=x\0",
        ctl1,
        "ctl1/neutron-periodic-workers",
      ],
      [
        "uwsgi_python3",
        "/usr/bin/uwsgi_python3\0--ini\0/etc/nova/nova-api-uwsgi.ini\0--processes\x001\0",
        ctl1,
        "ctl1/nova-api",
      ],
      [
        "uwsgi_python3",
        "/usr/bin/uwsgi_python3\0--ini\0/etc/keystone/hastack-uwsgi.ini\0",
        ctl1,
        "ctl1/keystone",
      ],
      [
        "qemu-system-x86",
        "/usr/bin/qemu-system-x86_64\0-name\0guest=instance-00000001\0",
        hybrid,
        "cmp2/qemu-system-x86_64",
      ],
      ["pacemaker-contr", "/usr/lib/pacemaker/pacemaker-controld\0", ctl1, "ctl1/pacemaker-controld"],
      ["beam.smp", "/usr/lib/erlang/erts-15.2.7/bin/beam.smp\0-W\0w\0", ctl1, "ctl1/beam.smp"],
      [
        "MainThread",
        "/opt/hastack/node/current/bin/node\0/opt/hastack/agent/instance-ha/agent/main.ts\0",
        hybrid,
        "cmp2/agent/main.ts",
      ],
      ["MainThread", "/usr/bin/node\0-e\0for(;;){}\0", "0::/\n", "host/node"],
      ["npm run lab", "npm run lab\0", "0::/\n", "host/npm"],
      ["kworker/1:2H-kblockd", "", "0::/\n", "host/kworker"],
      [
        "ipmi_sim",
        "ipmi_sim\0-c\0/var/lib/hastack/lab/bmc/ctl1/lan.conf\0",
        "0::/hastack-lab/bmc-ctl1\n",
        "bmc-ctl1/ipmi_sim",
      ],
    ];
    for (const [comm, argv, cgroup, consumer] of cases) expect(consumerOf(comm, argv, cgroup)).toBe(consumer);
  });

  const stat = (comm: string, ppid: number, own: number, reaped = 0, start = 1): Stat => ({
    comm,
    ppid,
    own,
    reaped,
    start,
  });

  it("counts each process's jiffies once: own, a seen child's, an unseen child's, an exit, a new pid", () => {
    const t = newTally();
    const step = (listed: [number, Stat][]) => {
      const { used } = count(t, listed, (_pid, s) => `host/${s.comm}`);
      const names = new Map([...t.ids].map(([name, id]) => [id, name]));
      return Object.fromEntries([...used].map(([id, j]) => [names.get(id), j]));
    };
    // The first count only remembers: what ran before is no one's.
    expect(
      step([
        [1, stat("init", 0, 900)],
        [10, stat("bash", 1, 50)],
        [11, stat("worker", 10, 20)],
      ]),
    ).toEqual({});
    expect(
      step([
        [1, stat("init", 0, 900)],
        [10, stat("bash", 1, 52)],
        [11, stat("worker", 10, 30)],
      ]),
    ).toEqual({
      "host/bash": 2,
      "host/worker": 10,
    });
    // worker exits at 35 and bash reaps it: worker's last 5 count under bash. ls is new: all of its 4.
    expect(
      step([
        [1, stat("init", 0, 900)],
        [10, stat("bash", 1, 53, 35)],
        [12, stat("ls", 10, 4)],
      ]),
    ).toEqual({
      "host/bash": 1 + 5,
      "host/ls": 4,
    });
    // ls exited, but bash is read before its wait(): what ls counted is owed, for one count.
    expect(
      step([
        [1, stat("init", 0, 900)],
        [10, stat("bash", 1, 53, 35)],
      ]),
    ).toEqual({});
    // ls's 4 land in bash's cutime, with 3 of a child never seen; pid 11 is reused by cat.
    expect(
      step([
        [1, stat("init", 0, 901)],
        [10, stat("bash", 1, 53, 42)],
        [11, stat("cat", 10, 2, 0, 7)],
      ]),
    ).toEqual({ "host/init": 1, "host/bash": 3, "host/cat": 2 });
    // Nothing owed any more; pid 11 is reused again (another start), by a cat that used 1.
    expect(
      step([
        [1, stat("init", 0, 901)],
        [10, stat("bash", 1, 53, 44)],
        [11, stat("cat", 10, 1, 0, 9)],
      ]),
    ).toEqual({ "host/bash": 2, "host/cat": 1 });
  });

  it("reads a sleeping process every 8th second, yet counts an exited child once", () => {
    const t = newTally();
    const totals: Record<string, number> = {};
    let initReads = 0;
    // As listStats does: a stat only where mustRead says so.
    const step = (table: [number, Stat][]) => {
      function* listed(): Generator<[number, Stat | undefined]> {
        for (const [pid, s] of table) {
          const read = mustRead(t, pid);
          if (read && pid === 1) initReads++;
          yield [pid, read ? s : undefined];
        }
      }
      const { used } = count(t, listed(), (_pid, s) => `host/${s.comm}`);
      const names = new Map([...t.ids].map(([name, id]) => [id, name]));
      for (const [id, j] of used)
        totals[names.get(id) as string] = (totals[names.get(id) as string] ?? 0) + j;
    };
    const init = stat("init", 0, 900);
    // Counts 1-4: openstack uses 50 a second; sshd, its parent, sleeps (read at 1-4, not at 5-6).
    for (let s = 0; s < 4; s++)
      step([
        [1, init],
        [12, stat("sshd", 1, 5)],
        [13, stat("openstack", 12, 50 * s)],
      ]);
    // Count 5: openstack exited after 25 more, and sshd reaped it, but sshd is not read now...
    const reaped = stat("sshd", 1, 5, 175);
    step([
      [1, init],
      [12, reaped],
    ]);
    // ...so it is at 6, owing what openstack counted: only the 25 are sshd's, and counted now.
    step([
      [1, init],
      [12, reaped],
    ]);
    expect(totals).toEqual({ "host/openstack": 150, "host/sshd": 25 });
    step([
      [1, init],
      [12, reaped],
    ]);
    step([
      [1, init],
      [12, reaped],
    ]);
    expect(totals).toEqual({ "host/openstack": 150, "host/sshd": 25 });
    // init, unchanged: read at 1-3, then only at 7 ((7 + pid 1) % 8 === 0).
    expect(initReads).toBe(4);
  });
});

describe("cpuSplit", () => {
  // 2 cores at hz 100: 200 jiffies a second in all. Samples at 1 s .. 6 s; the window is 2 s .. 5 s.
  const SAMPLES = [
    "hz 100",
    "c 0 cmp1/qemu-system-x86",
    "c 1 ctl1/neutron-server",
    "1000 100 1000",
    "2000 250 1200 0:100 1:40",
    "c 2 ctl2/mariadbd",
    "3000 400 1400 0:90 1:50 2:5",
    // ctl1's neutron-server exited (nothing after this sample)...
    "4000 560 1600 0:110 1:30",
    // ...and a consumer appears mid-window.
    "c 3 host/stress-ng",
    "5000 760 1800 0:60 3:135",
    "6000 800 2000 0:20",
    "7000 1 2", // no newline yet: the sampler may be mid-write
  ].join("\n");

  it("sums each consumer's CPU-seconds between the samples nearest the window's ends", () => {
    const file = tempFile("cpu");
    fs.writeFileSync(file, SAMPLES);
    const split = cpuSplit(file, new Date(2100), new Date(4900));
    expect(split).toEqual({
      seconds: 3,
      usedS: 5.1,
      availableS: 6,
      consumers: [
        { name: "cmp1/qemu-system-x86", cpuS: 2.6 },
        { name: "host/stress-ng", cpuS: 1.35 },
        { name: "ctl1/neutron-server", cpuS: 0.8 },
        { name: "ctl2/mariadbd", cpuS: 0.05 },
      ],
    });
    // The same window as the busy share's.
    expect(busyShare(file, new Date(2100), new Date(4900))).toBeCloseTo(85);
    expect(cpuSplit(file, new Date(2100), new Date(2200))).toBeUndefined();
    // The line without its newline is not a sample: the last is at 6 s.
    expect(cpuSplit(file, new Date(0), new Date(9000))?.seconds).toBe(5);
    expect(formatCpuSplit(split as NonNullable<typeof split>, 2)).toBe(
      "cpu in the window (3.0 s, 5.1 of 6.0 CPU-s used, 0.3 not in a process): cmp1/qemu-system-x86 2.6, " +
        "host/stress-ng 1.4, the rest (2) 0.9\n" +
        "  by command over every host: qemu-system-x86 2.6, stress-ng 1.4, the rest (2) 0.9",
    );
  });
});

describe("the sampler on this machine", () => {
  it("samples once a second and counts a busy process", async () => {
    const file = tempFile("cpu");
    const stop = startCpuSampler(file);
    let child: ChildProcess | undefined;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      // Busy only after the first sample, so the whole of it falls in the window.
      for (let i = 0; i < 100 && !/^\d/m.test(fs.readFileSync(file, "utf8")); i++) await sleep(100);
      const from = new Date();
      const busy = spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" });
      child = busy;
      // Until it has used 1 CPU-s (2-3 s here, longer on a loaded machine), then a sample more:
      // once killed, its last partial second would count under its reaper, this test's process.
      const hz = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
      const used = () => parseStat(fs.readFileSync(`/proc/${busy.pid}/stat`)).own / hz;
      for (let i = 0; i < 200 && used() < 1; i++) await sleep(100);
      await sleep(1500);
      busy.kill("SIGKILL");
      const split = cpuSplit(file, from, new Date());
      expect(fs.readFileSync(file, "utf8").match(/^\d+ \d+ \d+/gm)?.length).toBeGreaterThanOrEqual(2);
      // The sampler (node too) alone would need some 30 s for this much.
      expect(split?.consumers.find((c) => c.name === "host/node")?.cpuS).toBeGreaterThan(1);
    } finally {
      child?.kill("SIGKILL");
      stop();
    }
  });
});
