/**
 * @module
 * Steps the engine makes for every service from its data: host packages, config files (compare
 * by sha256, write only what changed) and the restarts/reloads that changed files declare.
 */

import { createHash } from "node:crypto";
import { maskLike, maskSecrets, redact } from "../inventory/secrets.ts";
import { fileBytes } from "../services/materialize.ts";
import type { RenderedFile } from "../services/render.ts";
import type { StepContext, StepSpec } from "../services/types.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import { HastackError } from "../util/errors.ts";
import { unifiedDiff } from "./diff.ts";
import type { DeployEvent } from "./events.ts";
import { isUnitFile, type RestartBook, type UnitControl } from "./restarts.ts";

export interface BuiltinEnv {
  secrets: Readonly<Record<string, string>>;
  emit(event: DeployEvent): void;
  restarts: RestartBook;
  units: UnitControl;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

interface Wanted {
  file: RenderedFile;
  bytes: Buffer;
  sha: string;
}

interface Difference {
  want: Wanted;
  content: boolean;
}

async function differences(ctx: StepContext, wanted: Wanted[]): Promise<Difference[]> {
  const stats = await ctx.transport.stat(wanted.map((w) => w.file.path));
  const out: Difference[] = [];
  for (const want of wanted) {
    const st = stats.get(want.file.path);
    const content = st?.sha256 !== want.sha;
    const meta =
      !st ||
      st.mode !== (want.file.mode & 0o7777) ||
      st.owner !== want.file.owner ||
      st.group !== want.file.group;
    if (content || meta) out.push({ want, content });
  }
  return out;
}

/** Shows a change without leaking: ours from placeholders, theirs with literal values masked. */
async function showDiff(ctx: StepContext, d: Difference, env: BuiltinEnv): Promise<void> {
  const { file } = d.want;
  let diff: string;
  if (!d.content) {
    diff = `(content unchanged; owner/group/mode become ${file.owner}:${file.group} ${file.mode.toString(8).padStart(4, "0")})\n`;
  } else if (file.encoding === "base64") {
    diff = `(binary content changes; new sha256 ${d.want.sha.slice(0, 16)}…)\n`;
  } else {
    const current = await ctx.transport.readFile(file.path);
    // The host's copy may hold secret values no longer in the secrets file (before a rotation is
    // deployed): masked by the shape of our lines, not only by the values we know.
    const theirs =
      current === undefined ? "" : maskLike(redact(current.toString("utf8"), env.secrets), file.text);
    diff =
      theirs === undefined
        ? "(content changes; a file that is a secret as a whole is not shown)\n"
        : unifiedDiff(
            theirs,
            maskSecrets(file.text),
            current === undefined ? "/dev/null" : `a${file.path}`,
            `b${file.path}`,
          ) || "(only secret values change)\n";
  }
  env.emit({ type: "file-diff", host: ctx.host.name, step: ctx.step, path: file.path, diff });
}

export function filesStep(
  service: string,
  files: ReadonlyMap<string, RenderedFile[]>,
  env: BuiltinEnv,
): StepSpec {
  const wantedOn = (host: string): Wanted[] =>
    (files.get(host) ?? [])
      .filter((f) => f.service === service)
      .map((file) => {
        const bytes = fileBytes(file, env.secrets);
        return { file, bytes, sha: sha256(bytes) };
      });
  // What the last check found per host: apply writes exactly that (the runner always checks first).
  const found = new Map<string, Difference[]>();
  return {
    id: `${service}.files`,
    title: `write ${service} config files`,
    on: "each",
    async check(ctx) {
      const diffs = await differences(ctx, wantedOn(ctx.host.name));
      found.set(ctx.host.name, diffs);
      if (ctx.dryRun) {
        for (const d of diffs) await showDiff(ctx, d, env);
        const units = diffs
          .filter((d) => d.content)
          .flatMap((d) => [...(d.want.file.onChange.restart ?? []), ...(d.want.file.onChange.reload ?? [])]);
        if (units.length > 0)
          ctx.log.info(`would restart/reload if running: ${[...new Set(units)].join(", ")}`);
      }
      return diffs.length === 0;
    },
    async apply(ctx) {
      const diffs = found.get(ctx.host.name) ?? (await differences(ctx, wantedOn(ctx.host.name)));
      // Owed before the write, not after: if the run dies in between, resume restarts once too
      // often rather than leaving a daemon on the old config while the file compares equal.
      for (const { want, content } of diffs) {
        if (content)
          env.restarts.add(
            ctx.host.name,
            service,
            want.file.onChange.restart ?? [],
            want.file.onChange.reload ?? [],
          );
      }
      // One round trip for all of them; each file is still replaced atomically.
      await ctx.transport.writeFiles(
        diffs.map(({ want: { file, bytes } }) => ({
          path: file.path,
          data: bytes,
          opts: { owner: file.owner, group: file.group, mode: file.mode },
        })),
      );
      ctx.log.info(`wrote ${diffs.map((d) => d.want.file.path).join(", ")}`);
      // Before any restart reads it: a changed unit file is invisible to systemd until reloaded.
      if (diffs.some((d) => isUnitFile(d.want.file.path))) await ctx.run(env.units.daemonReload());
    },
  };
}

/**
 * Serial: restarting every member of a quorum cluster at once is how a config change becomes an
 * outage. A unit that is not running is left alone: its start step will read the new file.
 */
export function restartStep(service: string, env: BuiltinEnv): StepSpec {
  return {
    id: `${service}.restart`,
    title: `restart ${service} where a changed file asks for it`,
    on: "serial",
    async check(ctx) {
      return env.restarts.get(ctx.host.name, service) === undefined;
    },
    async apply(ctx) {
      const pending = env.restarts.get(ctx.host.name, service);
      if (!pending) return;
      const plan: [unit: string, how: "restart" | "reload"][] = [
        ...pending.restart.map((u) => [u, "restart"] as [string, "restart"]),
        ...pending.reload.map((u) => [u, "reload"] as [string, "reload"]),
      ];
      for (const [unit, how] of plan) {
        if (!(await ctx.test(env.units.isActive(unit)))) {
          ctx.log.info(`${unit} is not running; not restarted`);
          continue;
        }
        await ctx.run(how === "restart" ? env.units.restart(unit) : env.units.reload(unit));
        ctx.log.info(`${how === "restart" ? "restarted" : "reloaded"} ${unit}`);
      }
      env.restarts.clear(ctx.host.name, service);
    },
  };
}

/** Every package of every service on a host in one apt run: one dpkg lock, one resolver pass. */
export function packagesStep(packagesOf: (host: string) => string[]): StepSpec {
  const missing = async (ctx: StepContext): Promise<string[]> => {
    const wanted = packagesOf(ctx.host.name);
    if (wanted.length === 0) return [];
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format, not a template
    const r = await ctx.transport.exec(["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", ...wanted]);
    const installed = new Set(
      r.stdout
        .split("\n")
        .filter((l) => l.endsWith(" install ok installed"))
        .map((l) => l.split(" ")[0]),
    );
    return wanted.filter((p) => !installed.has(p));
  };
  return {
    id: "host.packages",
    title: "install packages",
    on: "each",
    timeoutMs: 1_800_000,
    retries: 1,
    async check(ctx) {
      const m = await missing(ctx);
      if (m.length > 0 && ctx.dryRun) ctx.log.info(`would install ${m.join(" ")}`);
      return m.length === 0;
    },
    async apply(ctx) {
      const m = await missing(ctx);
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      await ctx.run(["apt-get", "update", "-q"], { env });
      await ctx.run(["apt-get", "install", "-y", "--no-install-recommends", ...m], { env });
      // apt "installs" a virtual package by its provider, and dpkg never lists the name itself:
      // the check would fail for ever, so say which names, not only that the check still differs.
      const still = await missing(ctx);
      if (still.length > 0)
        throw new HastackError(
          "E_PACKAGE_NOT_INSTALLED",
          `Cannot install ${still.join(" ")} on ${ctx.host.name}: apt-get exited 0 but dpkg does not list ${still.length === 1 ? "it" : "them"} as installed`,
          {
            hint: "a virtual package (apt-cache showpkg NAME lists its providers) must be replaced by a real one in the service's components",
          },
        );
      ctx.log.info(`installed ${shellQuote(m)}`);
    },
  };
}
