import { HastackError } from "../util/errors.ts";
import {
  MISSING_EXIT,
  parseStatOutput,
  readFileCommand,
  statCommand,
  tail,
  writeFileCommand,
  writeFilesCommand,
} from "./remote-commands.ts";
import type {
  ExecOptions,
  ExecResult,
  ExecResultRaw,
  FileStat,
  Transport,
  WriteFileOptions,
} from "./types.ts";

/** Maps a prefix-free path to where the transport really keeps it (LocalTransport's root dir). */
export type PathMapper = (path: string) => string;

/**
 * File operations as shell commands over `execRaw`, so every transport gets the same atomic
 * write and one-round-trip stat.
 */
export abstract class ShellTransport implements Transport {
  abstract readonly name: string;
  protected mapPath: PathMapper = (p) => p;

  abstract execRaw(command: string[] | string, opts?: ExecOptions): Promise<ExecResultRaw>;
  abstract close(): Promise<void>;

  async exec(command: string[] | string, opts?: ExecOptions): Promise<ExecResult> {
    const r = await this.execRaw(command, opts);
    return {
      code: r.code,
      stdout: r.stdout.toString("utf8"),
      stderr: r.stderr.toString("utf8"),
      durationMs: r.durationMs,
    };
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const r = await this.execRaw(readFileCommand(this.mapPath(path)));
    if (r.code === MISSING_EXIT) return undefined;
    if (r.code !== 0) {
      throw new HastackError(
        "E_FILE_READ",
        `Cannot read ${path} on ${this.name}: exit code ${r.code}: ${tail(r.stderr.toString())}`,
      );
    }
    return r.stdout;
  }

  async writeFile(path: string, data: Buffer | string, opts: WriteFileOptions): Promise<void> {
    const r = await this.execRaw(writeFileCommand(this.mapPath(path), opts), { stdin: data });
    if (r.code !== 0) {
      throw new HastackError(
        "E_FILE_WRITE",
        `Cannot write ${path} on ${this.name}: exit code ${r.code}: ${tail(r.stderr.toString())}`,
      );
    }
  }

  async writeFiles(
    files: readonly { path: string; data: Buffer | string; opts: WriteFileOptions }[],
  ): Promise<void> {
    if (files.length === 0) return;
    const bufs = files.map((f) => (typeof f.data === "string" ? Buffer.from(f.data, "utf8") : f.data));
    const command = writeFilesCommand(
      files.map((f, i) => ({ path: this.mapPath(f.path), size: bufs[i]?.length ?? 0, opts: f.opts })),
    );
    const r = await this.execRaw(command, { stdin: Buffer.concat(bufs) });
    if (r.code !== 0) {
      const names = files.length === 1 ? files[0]?.path : `${files.length} files`;
      throw new HastackError(
        "E_FILE_WRITE",
        `Cannot write ${names} on ${this.name}: exit code ${r.code}: ${tail(r.stderr.toString())}`,
      );
    }
  }

  async stat(paths: string[]): Promise<Map<string, FileStat | undefined>> {
    if (paths.length === 0) return new Map();
    const r = await this.execRaw(statCommand(paths.map((p) => this.mapPath(p))));
    if (r.code !== 0) {
      throw new HastackError(
        "E_FILE_STAT",
        `Cannot stat files on ${this.name}: exit code ${r.code}: ${tail(r.stderr.toString())}`,
      );
    }
    return parseStatOutput(this.name, paths, r.stdout.toString("utf8"));
  }
}
