/**
 * @module
 * One way to reach a host: run commands and read/write files. The deploy engine, health probes
 * and drills only see this interface, so an OpenSSH-subprocess transport could be added later.
 */

export interface ExecOptions {
  /** Kills the command and throws E_COMMAND_TIMEOUT after this long. @default 600_000 */
  timeoutMs?: number;
  /** Sent to the command's stdin, then EOF. Never logged: it may carry secrets. */
  stdin?: Buffer | string;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
  /** Run through `sudo -n`; defaults to the transport's setting (on when the user is not root). */
  sudo?: boolean;
  /** Aborts like a timeout does. */
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Like ExecResult but with raw bytes, for file transfer. */
export interface ExecResultRaw {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
}

export interface WriteFileOptions {
  owner: string;
  group: string;
  /** Unix mode, e.g. 0o640 */
  mode: number;
}

export interface FileStat {
  sha256: string;
  size: number;
  mode: number;
  owner: string;
  group: string;
}

export interface Transport {
  /** Host name as the inventory spells it (for messages). */
  readonly name: string;
  /** Never throws on a non-zero exit; throws a HastackError when the host cannot be reached or on timeout. */
  exec(command: string[] | string, opts?: ExecOptions): Promise<ExecResult>;
  execRaw(command: string[] | string, opts?: ExecOptions): Promise<ExecResultRaw>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Written atomically: temp file in the same directory, chown/chmod, rename. */
  writeFile(path: string, data: Buffer | string, opts: WriteFileOptions): Promise<void>;
  /** Several files in one round trip, each replaced atomically; all temp files are synced before any rename. */
  writeFiles(
    files: readonly { path: string; data: Buffer | string; opts: WriteFileOptions }[],
  ): Promise<void>;
  /** Hash and ownership of many files in one round trip; undefined for missing ones. */
  stat(paths: string[]): Promise<Map<string, FileStat | undefined>>;
  close(): Promise<void>;
}
