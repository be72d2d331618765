/**
 * @module
 * A real OpenSSH server on 127.0.0.1 for tests: temp host key, temp authorized_keys, random port.
 * Test-only; needs /usr/sbin/sshd (Debian: openssh-server).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface Sshd {
  port: number;
  dir: string;
  user: string;
  clientKeyPath: string;
  /** `[127.0.0.1]:port type base64`: the server's real key, as known_hosts wants it. */
  knownHostsLine: string;
  /** The same host name with a different key: a "changed host key". */
  wrongKnownHostsLine: string;
  stop(): Promise<void>;
}

function keygen(path: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  return readFileSync(`${path}.pub`, "utf8").trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "hastack-sshd-"));
  const hostPub = keygen(join(dir, "host_key"));
  const otherPub = keygen(join(dir, "other_host_key"));
  const clientPub = keygen(join(dir, "client_key"));
  writeFileSync(join(dir, "authorized_keys"), `${clientPub}\n`, { mode: 0o600 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation dir sshd insists on
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "MaxSessions 10",
      "MaxStartups 50",
      "LogLevel ERROR",
    ].join("\n");
    writeFileSync(join(dir, "sshd_config"), `${config}\n`);
    const child: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      child.kill("SIGTERM");
      if (attempt < 3) continue;
      throw new Error(`sshd did not start: ${stderr}`);
    }
    const [type, key] = hostPub.split(" ");
    const [otherType, otherKey] = otherPub.split(" ");
    return {
      port,
      dir,
      user: userInfo().username,
      clientKeyPath: join(dir, "client_key"),
      knownHostsLine: `[127.0.0.1]:${port} ${type} ${key}`,
      wrongKnownHostsLine: `[127.0.0.1]:${port} ${otherType} ${otherKey}`,
      async stop() {
        child.kill("SIGTERM");
        await exited;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
