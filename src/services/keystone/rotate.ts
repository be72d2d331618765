/**
 * @module
 * Fernet key rotation across the controllers, the safe order: a key is promoted only once it is
 * staged on every controller. Generation g of the repository already stages key g + 1 everywhere
 * (deploy writes it), so a rotation is: (1) reach every controller and see that each holds
 * generation g (a controller that cannot be reached refuses the rotation: it would keep
 * generation g while the others encrypt with a key it will miss after the next rotation);
 * (2) record g + 1 in the secrets file; (3) give every controller g + 1 (promote key g + 1,
 * stage key g + 2, drop the oldest). A run interrupted after (2) leaves some controllers on g:
 * the next run finds them, finishes that rotation and stops there, so no run rotates twice
 * over a controller that lags.
 */
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import { FERNET_MAX_ACTIVE_KEYS, type KeyState, primaryOf, repository } from "./fernet.ts";
import { inSync, type RepoState, readRepo, writeRepo } from "./key-repo.ts";

export interface KeyTarget {
  /** Controller name, for messages. */
  name: string;
  transport: Transport;
  /** The Fernet key repository on it (a test gives two Keystones in one container two of them). */
  dir: string;
}

export interface RotationResult {
  /** "rotated": one generation up on every controller; "completed": an interrupted rotation was finished. */
  outcome: "rotated" | "completed";
  from: number;
  to: number;
  /** Controllers whose keys changed in this run. */
  changed: string[];
}

export interface RotationIo {
  /** Persists the new generation in the secrets file before any controller gets it. */
  save(state: KeyState): Promise<void>;
  log(line: string): void;
}

async function reachAll(targets: readonly KeyTarget[]): Promise<Map<string, RepoState>> {
  const found = await Promise.allSettled(targets.map((t) => readRepo(t.transport, t.dir, 15_000)));
  const out = new Map<string, RepoState>();
  const down: string[] = [];
  found.forEach((r, i) => {
    const name = targets[i]?.name ?? "";
    if (r.status === "fulfilled") out.set(name, r.value);
    else down.push(`${name} (${r.reason instanceof Error ? r.reason.message : String(r.reason)})`);
  });
  if (down.length > 0)
    throw new HastackError(
      "E_KEYSTONE_ROTATE",
      `Cannot rotate the Fernet keys: ${down.join("; ")}: a controller left out would miss the key this rotation stages`,
      { hint: "bring every controller back (hastack status), then run rotate-keys again" },
    );
  return out;
}

async function pushAll(
  targets: readonly KeyTarget[],
  wanted: ReadonlyMap<string, string>,
): Promise<string[]> {
  const results = await Promise.allSettled(targets.map((t) => writeRepo(t.transport, t.dir, wanted)));
  const failed = results.flatMap((r, i) =>
    r.status === "rejected"
      ? [`${targets[i]?.name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`]
      : [],
  );
  if (failed.length > 0)
    throw new HastackError("E_KEYSTONE_ROTATE", `Cannot write the Fernet keys: ${failed.join("; ")}`, {
      hint: "run rotate-keys again once the controller answers: it finishes this rotation",
    });
  return results.flatMap((r, i) =>
    r.status === "fulfilled" && r.value.written.length + r.value.removed.length > 0
      ? [targets[i]?.name ?? ""]
      : [],
  );
}

export async function rotateFernet(
  targets: readonly KeyTarget[],
  current: KeyState,
  io: RotationIo,
): Promise<RotationResult> {
  const states = await reachAll(targets);
  const wanted = repository(current, FERNET_MAX_ACTIVE_KEYS);
  const behind = targets.filter((t) => {
    const s = states.get(t.name);
    return !s || !inSync(s, wanted);
  });
  for (const t of targets) {
    const primary = primaryOf(states.get(t.name)?.files.keys() ?? []) ?? 0;
    if (primary > current.generation)
      throw new HastackError(
        "E_KEYSTONE_ROTATE",
        `Cannot rotate the Fernet keys: ${t.name} is at generation ${primary}, the secrets file at ${current.generation}`,
        { hint: "the secrets file is older than the controllers' keys: restore the current one" },
      );
  }
  if (behind.length > 0) {
    io.log(`finishing generation ${current.generation} on ${behind.map((t) => t.name).join(", ")}`);
    const changed = await pushAll(behind, wanted);
    return { outcome: "completed", from: current.generation, to: current.generation, changed };
  }
  const next = { seed: current.seed, generation: current.generation + 1 };
  await io.save(next);
  io.log(
    `generation ${current.generation} is staged on every controller; promoting it (generation ${next.generation})`,
  );
  const changed = await pushAll(targets, repository(next, FERNET_MAX_ACTIVE_KEYS));
  return { outcome: "rotated", from: current.generation, to: next.generation, changed };
}
