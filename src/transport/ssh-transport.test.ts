import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HastackError } from "../util/errors.ts";
import { SshTransport, type SshTransportOptions } from "./ssh-transport.ts";
import { type Sshd, startSshd } from "./sshd-fixture.ts";

let sshd: Sshd;
let t: SshTransport;
const work = mkdtempSync(join(tmpdir(), "hastack-ssh-"));

function transport(knownHosts: string, extra: Partial<SshTransportOptions> = {}): SshTransport {
  return new SshTransport({
    name: "lo",
    address: "127.0.0.1",
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.clientKeyPath,
    knownHostsPath: knownHosts,
    ...extra,
  });
}

beforeAll(async () => {
  sshd = await startSshd();
  const kh = join(work, "known_hosts");
  writeFileSync(kh, `${sshd.knownHostsLine}\n`);
  t = transport(kh);
});

afterAll(async () => {
  await t?.close();
  await sshd?.stop();
});

async function refusal(p: Promise<unknown>): Promise<HastackError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(HastackError);
  return e as HastackError;
}

describe("SshTransport against a real sshd on 127.0.0.1", () => {
  it("runs argv and string commands, with exit codes, stdout, stderr, stdin and env", async () => {
    const r = await t.exec(["sh", "-c", 'echo "$1"; echo oops >&2; exit 3', "sh", "it's $HOME"]);
    expect(r).toMatchObject({ code: 3, stdout: "it's $HOME\n", stderr: "oops\n" });
    expect((await t.exec("cat", { stdin: "piped" })).stdout).toBe("piped");
    expect((await t.exec('echo "$X"', { env: { X: "a b'c" } })).stdout).toBe("a b'c\n");
    expect((await t.exec(["id", "-u"], { sudo: true })).stdout.trim()).toBe(String(process.getuid?.()));
  });

  it("reuses one connection for many concurrent commands", async () => {
    const before = await t.exec("echo $PPID");
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => t.exec(["echo", String(i)])));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    const conns = await t.exec([
      "sh",
      "-c",
      `ss -tn state established '( sport = :${sshd.port} )' | tail -n +2 | wc -l`,
    ]);
    expect(Number(conns.stdout.trim())).toBe(1);
    expect(before.code).toBe(0);
  });

  it("asks again when sshd refuses a channel past its MaxSessions, so no command fails for it", async () => {
    // 16 concurrent sessions on one connection to an sshd allowing 10: the 6 refused ones open
    // once others close.
    const kh = join(work, "known_hosts");
    const wide = transport(kh, { maxSessions: 16 });
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => wide.exec(["sh", "-c", `sleep 0.5; echo ${i}`])),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 16 }, (_, i) => String(i)));
    } finally {
      await wide.close();
    }
  });

  it("runs a command on a new connection when the cached one died before its channel opened", async () => {
    // A host powered off under a cached connection: its sshd stops answering. Stopping this
    // connection's sshd-session (SIGSTOP; its parent is the listener, which must keep running)
    // does the same; the keepalive then declares it dead while the next command's channel
    // waits to open, and that command never started.
    const kh = join(work, "known_hosts");
    const ka = transport(kh, { keepaliveIntervalMs: 300 });
    const ours: number[] = [];
    try {
      const ids = await ka.exec(["sh", "-c", 'echo "$PPID"']);
      ours.push(Number(ids.stdout.trim()));
      for (const pid of ours) process.kill(pid, "SIGSTOP");
      const again = await ka.exec(["sh", "-c", 'echo "$PPID"']);
      expect(again.code).toBe(0);
      expect(ours).not.toContain(Number(again.stdout.trim()));
    } finally {
      for (const pid of ours) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await ka.close();
    }
  });

  it("closes a connection whose peer stopped answering (a host powered off): close() does not wait for TCP", async () => {
    // Without the grace, close() waited for a "close" that came only when TCP gave up: minutes
    // (the 20 s test timeout fails it). A second close() of the same transport returns at once.
    const kh = join(work, "known_hosts");
    const dead = transport(kh);
    const ours: number[] = [];
    try {
      const ids = await dead.exec(["sh", "-c", 'echo "$PPID"']);
      ours.push(Number(ids.stdout.trim()));
      for (const pid of ours) process.kill(pid, "SIGSTOP");
      await dead.close();
      await dead.close();
    } finally {
      for (const pid of ours) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
    }
  }, 20_000);

  it("times out a hanging command with E_COMMAND_TIMEOUT and stays usable", async () => {
    const e = await refusal(t.exec(["sleep", "30"], { timeoutMs: 300 }));
    expect(e.code).toBe("E_COMMAND_TIMEOUT");
    expect((await t.exec(["true"])).code).toBe(0);
  });

  it("writes files atomically with owner and mode, and reads them back", async () => {
    const path = join(work, "sub", "f.conf");
    await t.writeFile(path, "hello\n", { owner: "nobody", group: "nogroup", mode: 0o640 });
    const st = statSync(path);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(readFileSync(path, "utf8")).toBe("hello\n");
    expect((await t.readFile(path))?.toString()).toBe("hello\n");
    const info = (await t.stat([path, join(work, "missing")])).get(path);
    expect(info).toMatchObject({ owner: "nobody", group: "nogroup", mode: 0o640, size: 6 });
    const bytes = Buffer.from([0, 1, 2, 255, 10]);
    await t.writeFile(path, bytes, { owner: "root", group: "root", mode: 0o600 });
    expect((await t.readFile(path))?.equals(bytes)).toBe(true);
    const leftovers = (await t.exec(["sh", "-c", `ls -A ${join(work, "sub")}`])).stdout.trim();
    expect(leftovers).toBe("f.conf");
  });

  it("writes many files in one round trip, exact bytes, each with its own owner and mode", async () => {
    const bin = Buffer.from([0, 10, 255, 13, 10]);
    const files = [
      {
        path: join(work, "many", "a b.conf"),
        data: "first\n",
        opts: { owner: "root", group: "root", mode: 0o600 },
      },
      {
        path: join(work, "many", "deep", "bin"),
        data: bin,
        opts: { owner: "nobody", group: "nogroup", mode: 0o644 },
      },
      { path: join(work, "many", "empty"), data: "", opts: { owner: "root", group: "root", mode: 0o640 } },
      {
        path: join(work, "many", "it's.hastack.x"),
        data: "q".repeat(100_000),
        opts: { owner: "root", group: "root", mode: 0o640 },
      },
    ];
    await t.writeFiles(files);
    for (const f of files) {
      expect((await t.readFile(f.path))?.equals(Buffer.from(f.data))).toBe(true);
      expect(statSync(f.path).mode & 0o7777).toBe(f.opts.mode);
    }
    expect((await t.stat([files[1]?.path ?? ""])).get(files[1]?.path ?? "")).toMatchObject({
      owner: "nobody",
    });
    const left = (
      await t.exec(["sh", "-c", `find ${join(work, "many")} -name '.*hastack*' | wc -l`])
    ).stdout.trim();
    expect(left).toBe("0");
  });

  it("returns undefined for a missing file", async () => {
    expect(await t.readFile(join(work, "nope"))).toBeUndefined();
    expect((await t.stat([join(work, "nope")])).get(join(work, "nope"))).toBeUndefined();
  });

  it("refuses an unknown host key, naming host and fingerprint", async () => {
    const kh = join(work, "empty_known_hosts");
    const e = await refusal(transport(kh).exec(["true"]));
    expect(e.code).toBe("E_HOSTKEY_UNKNOWN");
    expect(e.message).toMatch(/lo \(\[127\.0\.0\.1\]:\d+\).*ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}/);
  });

  it("refuses a changed host key even with trustNewHostKeys", async () => {
    const kh = join(work, "wrong_known_hosts");
    writeFileSync(kh, `${sshd.wrongKnownHostsLine}\n`);
    const e = await refusal(transport(kh, { trustNewHostKeys: true }).exec(["true"]));
    expect(e.code).toBe("E_HOSTKEY_MISMATCH");
    expect(e.message).toMatch(/expected ssh-ed25519 SHA256:\S+, presented ssh-ed25519 SHA256:\S+/);
    expect(readFileSync(kh, "utf8")).toBe(`${sshd.wrongKnownHostsLine}\n`);
  });

  it("trusts and records a new key on first contact when asked", async () => {
    const kh = join(work, "new_known_hosts");
    const first = transport(kh, { trustNewHostKeys: true });
    expect((await first.exec(["true"])).code).toBe(0);
    await first.close();
    expect(readFileSync(kh, "utf8").trim()).toBe(sshd.knownHostsLine);
    const pinned = transport(kh);
    expect((await pinned.exec(["true"])).code).toBe(0);
    await pinned.close();
  });

  it("reports a refused connection as E_SSH_CONNECT", async () => {
    const e = await refusal(transport(join(work, "known_hosts"), { port: 1 }).exec(["true"]));
    expect(e.code).toBe("E_SSH_CONNECT");
  });
});
