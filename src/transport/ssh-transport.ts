import { readFile } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from "ssh2";
import { HastackError } from "../util/errors.ts";
import {
  appendKnownHost,
  fingerprint,
  hostKeyAlgorithms,
  hostKeyName,
  keyTypeOf,
  loadKnownHosts,
  verifyHostKey,
} from "./known-hosts.ts";
import { wrapCommand } from "./remote-commands.ts";
import { Semaphore } from "./semaphore.ts";
import { ShellTransport } from "./shell-transport.ts";
import type { ExecOptions, ExecResultRaw } from "./types.ts";

export interface SshTransportOptions {
  /** Inventory host name, for messages. */
  name: string;
  address: string;
  /** @default 22 */
  port?: number;
  user: string;
  /** Private key file; without one, the ssh-agent at $SSH_AUTH_SOCK is used. */
  privateKeyPath?: string;
  knownHostsPath: string;
  /** Accept and record a key on first contact. A changed key is refused regardless. @default false */
  trustNewHostKeys?: boolean;
  /** @default 15_000 */
  connectTimeoutMs?: number;
  /** @default 10_000 */
  keepaliveIntervalMs?: number;
  /** Concurrent exec channels on the one connection; OpenSSH's MaxSessions defaults to 10. @default 8 */
  maxSessions?: number;
  /** Wrap commands in `sudo -n`. @default user !== "root" */
  sudo?: boolean;
}

/** One ssh2 connection per host, opened on first use, reused for every command, reopened if it drops. */
/** Tries to open a channel sshd refused (the command never started, so asking again is safe). */
export const CHANNEL_ATTEMPTS = 10;

/** How long close() waits for the peer to answer the disconnect before it drops the socket. */
const CLOSE_GRACE_MS = 2_000;

export class SshTransport extends ShellTransport {
  readonly name: string;
  readonly #opts: SshTransportOptions;
  readonly #sessions: Semaphore;
  #client: Promise<Client> | undefined;

  constructor(opts: SshTransportOptions) {
    super();
    this.name = opts.name;
    this.#opts = opts;
    this.#sessions = new Semaphore(opts.maxSessions ?? 8);
  }

  get #port(): number {
    return this.#opts.port ?? 22;
  }

  #connect(): Promise<Client> {
    this.#client ??= this.#open().catch((error: unknown) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  async #open(): Promise<Client> {
    const o = this.#opts;
    const where = `${o.user}@${o.address}:${this.#port}`;
    const entries = await loadKnownHosts(o.knownHostsPath);
    const knownTypes = entries
      .filter((e) => e.marker === undefined && verifyHostKey([e], o.address, this.#port, e.key).kind === "ok")
      .map((e) => e.keyType);
    let refusal: HastackError | undefined;
    let newKey: Buffer | undefined;
    const config: ConnectConfig = {
      host: o.address,
      port: this.#port,
      username: o.user,
      readyTimeout: o.connectTimeoutMs ?? 15_000,
      keepaliveInterval: o.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: 3,
      // Ask for the pinned key type so a server with several keys presents the one we know.
      ...(knownTypes.length > 0
        ? { algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) as ServerHostKeyAlgorithm[] } }
        : {}),
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(entries, o.address, this.#port, key);
        const presented = `${keyTypeOf(key)} ${fingerprint(key)}`;
        const name = hostKeyName(o.address, this.#port);
        if (verdict.kind === "ok") return true;
        if (verdict.kind === "unknown" && o.trustNewHostKeys) {
          newKey = key;
          return true;
        }
        if (verdict.kind === "unknown") {
          refusal = new HastackError(
            "E_HOSTKEY_UNKNOWN",
            `Cannot connect to ${o.name} (${name}): its host key ${presented} is not in ${o.knownHostsPath}`,
            {
              hint: "Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then rerun with --trust-new-host-keys",
            },
          );
        } else if (verdict.kind === "revoked") {
          refusal = new HastackError(
            "E_HOSTKEY_REVOKED",
            `Cannot connect to ${o.name} (${name}): host key ${presented} is revoked in ${o.knownHostsPath}`,
          );
        } else {
          refusal = new HastackError(
            "E_HOSTKEY_MISMATCH",
            `Cannot connect to ${o.name} (${name}): host key changed: expected ${verdict.expected.join(" or ")}, presented ${presented}`,
            {
              hint: `If the host was reinstalled, remove its line from ${o.knownHostsPath} (ssh-keygen -R '${name}' -f ...) and reconnect with --trust-new-host-keys`,
            },
          );
        }
        return false;
      },
    };
    if (o.privateKeyPath) {
      try {
        config.privateKey = await readFile(o.privateKeyPath);
      } catch (error) {
        throw new HastackError("E_SSH_KEY", `Cannot read SSH key ${o.privateKeyPath} for ${o.name}`, {
          cause: error,
        });
      }
    } else if (process.env.SSH_AUTH_SOCK) {
      config.agent = process.env.SSH_AUTH_SOCK;
    }

    config.sock = await this.#tcpConnect(where, config.readyTimeout ?? 15_000);
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once("ready", () => resolve());
      client.once("error", (error: Error & { level?: string }) => {
        if (refusal) return reject(refusal);
        const code =
          error.level === "client-authentication"
            ? "E_SSH_AUTH"
            : error.level === "client-timeout"
              ? "E_SSH_TIMEOUT"
              : "E_SSH_CONNECT";
        reject(
          new HastackError(code, `Cannot connect to ${o.name} (${where}): ${error.message}`, {
            cause: error,
          }),
        );
      });
      client.connect(config);
    });
    if (newKey) await appendKnownHost(o.knownHostsPath, o.address, this.#port, newKey);
    client.on("error", () => {}); // later errors surface through the channel that hits them
    client.on("close", () => {
      this.#client = undefined;
    });
    return client;
  }

  /**
   * Our own socket so Nagle can be turned off: without TCP_NODELAY every exec channel open waits
   * ~40 ms for a delayed ACK (measured on loopback: 45-90 ms per open, 1-3 ms with it).
   */
  #tcpConnect(where: string, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const sock = createConnection({ host: this.#opts.address, port: this.#port });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(
          new HastackError(
            "E_SSH_TIMEOUT",
            `Cannot connect to ${this.name} (${where}): no answer in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      sock.once("connect", () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once("error", (error) => {
        clearTimeout(timer);
        reject(
          new HastackError("E_SSH_CONNECT", `Cannot connect to ${this.name} (${where}): ${error.message}`, {
            cause: error,
          }),
        );
      });
    });
  }

  async execRaw(command: string[] | string, opts: ExecOptions = {}): Promise<ExecResultRaw> {
    const line = wrapCommand(command, {
      env: opts.env,
      sudo: opts.sudo ?? this.#opts.sudo ?? this.#opts.user !== "root",
    });
    let client = await this.#connect();
    let reconnected = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#sessions.with(() => this.#run(client, line, opts));
      } catch (error) {
        // The connection died before the channel opened: ssh2 answers a channel still waiting
        // to open with "No response from server" when its socket closes (a channel already open
        // gets "Unable to exec" instead), so the command never started. Seen on the lab: a
        // controller powered off and reinstalled under a cached connection, which its keepalive
        // declared dead only while the next command waited. Once, on a new connection.
        const dead =
          error instanceof HastackError &&
          error.code === "E_SSH_CHANNEL" &&
          error.message.includes("No response from server");
        if (dead && !reconnected) {
          reconnected = true;
          client = await this.#connect();
          continue;
        }
        // sshd refuses a session past its MaxSessions while channels we count as closed are
        // still being torn down on its side (seen under load in a CI rehearsal: "Channel open
        // failure: open failed", and status said DOWN). The command never started: ask again.
        const refused =
          error instanceof HastackError &&
          error.code === "E_SSH_CHANNEL" &&
          error.message.includes("Channel open failure");
        // Two seconds of retries were not enough on the lab under a deploy of the whole cloud
        // (2026-12-03: three steps failed on ctl1): about ten, backing off to 1.5 s.
        if (!refused || attempt >= CHANNEL_ATTEMPTS) throw error;
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 1500)));
      }
    }
  }

  #run(client: Client, line: string, opts: ExecOptions): Promise<ExecResultRaw> {
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      client.exec(line, (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          reject(
            new HastackError("E_SSH_CHANNEL", `Cannot run a command on ${this.name}: ${error.message}`, {
              cause: error,
            }),
          );
          return;
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let code: number | undefined;
        let failure: HastackError | undefined;
        const stop = (why: HastackError) => {
          if (failure) return;
          failure = why;
          clearTimeout(timer);
          // Do not wait for the channel to close: a command that ignores the signal could hold it for long.
          reject(why);
          // OpenSSH honours "signal" requests (since 7.9); closing the channel covers older servers.
          try {
            stream.signal("KILL");
          } catch {}
          stream.close();
        };
        const timer = setTimeout(
          () =>
            stop(
              new HastackError(
                "E_COMMAND_TIMEOUT",
                `Command timed out after ${timeoutMs} ms on ${this.name}`,
              ),
            ),
          timeoutMs,
        );
        const onAbort = () => stop(new HastackError("E_COMMAND_ABORTED", `Command aborted on ${this.name}`));
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        stream.on("data", (d: Buffer) => out.push(d));
        stream.stderr.on("data", (d: Buffer) => err.push(d));
        stream.on("exit", (c: number | null, signal?: string) => {
          code = c ?? (signal ? 128 + 9 : 255);
        });
        stream.on("close", () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          if (failure) return;
          if (code === undefined) {
            return reject(
              new HastackError(
                "E_SSH_DISCONNECTED",
                `Lost the connection to ${this.name} while running a command`,
              ),
            );
          }
          resolve({
            code,
            stdout: Buffer.concat(out),
            stderr: Buffer.concat(err),
            durationMs: performance.now() - started,
          });
        });
        stream.end(opts.stdin ?? "");
      });
    });
  }

  async close(): Promise<void> {
    const pending = this.#client;
    this.#client = undefined;
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    if (!client) return;
    // A peer that lost power never answers the disconnect, so "close" would come only when TCP
    // gives up, minutes later (recover --auto's reads hung on it, lab 2026-12-05); one already
    // closed never emits it again. After a short grace the socket is destroyed.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      client.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }
}
