/**
 * @module
 * The shell side of file operations, shared by every transport so SSH and local behave the same.
 * Each is one command line (one round trip); data travels on stdin, never on the command line.
 */
import { posix } from "node:path";
import { HastackError } from "../util/errors.ts";
import { shellQuote, shellQuoteArg } from "./shell-quote.ts";
import type { ExecOptions, FileStat, WriteFileOptions } from "./types.ts";

/** Exit code the read script uses for "no such file" (distinct from cat's own failures). */
export const MISSING_EXIT = 44;

/** Adds env and sudo around a command line. sudo -n fails fast instead of prompting. */
export function wrapCommand(
  command: readonly string[] | string,
  opts: Pick<ExecOptions, "env" | "sudo">,
): string {
  let line = shellQuote(command);
  const env = Object.entries(opts.env ?? {});
  if (env.length > 0) {
    for (const [key] of env) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        throw new RangeError(`Invalid environment variable name: ${key}`);
    }
    line = `${env.map(([k, v]) => `export ${k}=${shellQuoteArg(v)};`).join(" ")} ${line}`;
  }
  if (opts.sudo) line = shellQuote(["sudo", "-n", "--", "/bin/sh", "-c", line]);
  return line;
}

function checkPath(path: string): void {
  if (!posix.isAbsolute(path)) throw new RangeError(`Remote paths must be absolute: ${path}`);
}

function checkName(kind: string, name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new RangeError(`Invalid ${kind} name: ${name}`);
}

export function writeFileCommand(path: string, opts: WriteFileOptions): string[] {
  checkPath(path);
  checkName("owner", opts.owner);
  checkName("group", opts.group);
  const dir = posix.dirname(path);
  const base = posix.basename(path);
  // The temp file lives in the target directory so the final rename is atomic on one filesystem.
  const script = [
    "set -e",
    'umask 077; [ -d "$1" ] || mkdir -p -m 0755 -- "$1"',
    'tmp=$(mktemp "$1/.$2.hastack.XXXXXX")',
    "trap 'rm -f -- \"$tmp\"' EXIT",
    'cat > "$tmp"',
    'chown -- "$4" "$tmp"',
    'chmod -- "$5" "$tmp"',
    'sync -- "$tmp" 2>/dev/null || true',
    'mv -f -- "$tmp" "$3"',
    "trap - EXIT",
  ].join("\n");
  const mode = (opts.mode & 0o7777).toString(8).padStart(4, "0");
  return ["/bin/sh", "-c", script, "sh", dir, base, path, `${opts.owner}:${opts.group}`, mode];
}

/**
 * Many files in one command (one SSH session instead of one per file): stdin carries their bytes
 * back to back, `head -c` takes each one's share (GNU head reads no further than asked). All temp
 * files are written and synced first, then renamed, so each file is still replaced atomically.
 */
export function writeFilesCommand(
  files: readonly { path: string; size: number; opts: WriteFileOptions }[],
): string[] {
  const args: string[] = [];
  for (const f of files) {
    checkPath(f.path);
    if (/\n/.test(f.path))
      throw new RangeError(`Remote paths cannot contain a newline: ${JSON.stringify(f.path)}`);
    checkName("owner", f.opts.owner);
    checkName("group", f.opts.group);
    const mode = (f.opts.mode & 0o7777).toString(8).padStart(4, "0");
    args.push(f.path, String(f.size), `${f.opts.owner}:${f.opts.group}`, mode);
  }
  // Temp names encode the target (`dir/.base.hastack.XXXXXX`), so one list of them is enough.
  const script = `set -e
umask 077
tmps=''
each() { printf '%s' "$tmps" | while IFS= read -r t; do "$@" "$t"; done; }
cleanup() { rm -f -- "$1"; }
trap 'each cleanup' EXIT
while [ $# -gt 0 ]; do
  dir=\${1%/*}; dir=\${dir:-/}; base=\${1##*/}
  [ -d "$dir" ] || mkdir -p -m 0755 -- "$dir"
  tmp=$(mktemp "$dir/.$base.hastack.XXXXXX")
  tmps="$tmps$tmp
"
  head -c "$2" > "$tmp"
  [ "$(stat -c %s -- "$tmp")" = "$2" ] || { echo "short input for $1" >&2; exit 1; }
  chown -- "$3" "$tmp"; chmod -- "$4" "$tmp"
  shift 4
done
printf '%s' "$tmps" | xargs -r -d '\\n' sync -- 2>/dev/null || true
place() { d=\${1%/*}; b=\${1##*/}; b=\${b#.}; mv -f -- "$1" "$d/\${b%.hastack.*}"; }
each place
tmps=''`;
  return ["/bin/sh", "-c", script, "sh", ...args];
}

export function readFileCommand(path: string): string[] {
  checkPath(path);
  const script = `if [ -f "$1" ]; then exec cat -- "$1"; elif [ -e "$1" ]; then echo "not a regular file: $1" >&2; exit 3; else exit ${MISSING_EXIT}; fi`;
  return ["/bin/sh", "-c", script, "sh", path];
}

export function statCommand(paths: readonly string[]): string[] {
  for (const p of paths) checkPath(p);
  const script = [
    'for p in "$@"; do',
    '  if [ -f "$p" ]; then',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    '    s=$(stat -L -c "%s %a %U %G" -- "$p") && h=$(sha256sum < "$p") && printf "F %s %s\\n" "$s" "${h%% *}"',
    "  else echo M; fi",
    "done",
  ].join("\n");
  return ["/bin/sh", "-c", script, "sh", ...paths];
}

export function parseStatOutput(
  host: string,
  paths: readonly string[],
  stdout: string,
): Map<string, FileStat | undefined> {
  const lines = stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== paths.length) {
    throw new HastackError(
      "E_FILE_STAT",
      `Cannot stat files on ${host}: expected ${paths.length} lines, got ${lines.length}`,
    );
  }
  const out = new Map<string, FileStat | undefined>();
  paths.forEach((path, i) => {
    const f = (lines[i] ?? "").split(" ");
    if (f[0] !== "F" || f.length !== 6) {
      out.set(path, undefined);
      return;
    }
    out.set(path, {
      size: Number(f[1]),
      mode: Number.parseInt(f[2] ?? "0", 8),
      owner: f[3] ?? "",
      group: f[4] ?? "",
      sha256: f[5] ?? "",
    });
  });
  return out;
}

/** The last lines of stderr for an error message: enough to diagnose, short enough to read. */
export function tail(text: string, lines = 5, chars = 600): string {
  const t = text.trimEnd().split("\n").slice(-lines).join("\n");
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}
