import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import type { Plan } from "./plan.ts";

/** Connect to every host first: a refused host key or a dead host stops the run before any change. */
export async function preflight(plan: Plan, transports: ReadonlyMap<string, Transport>): Promise<void> {
  const hosts = [...new Set(plan.nodes.map((n) => n.host))];
  const failures: unknown[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      const t = transports.get(host);
      if (!t) {
        failures.push(new HastackError("E_NO_TRANSPORT", `${host}: no connection was set up`));
        return;
      }
      try {
        await t.exec(["true"], { timeoutMs: 30_000 });
      } catch (error) {
        failures.push(error);
      }
    }),
  );
  const [first] = failures;
  if (failures.length === 0) return;
  // One failure keeps its own code and hint (a refused host key says what to check).
  if (failures.length === 1) throw first;
  const codes = new Set(failures.map((f) => (f instanceof HastackError ? f.code : "E_SSH_CONNECT")));
  const lines = failures.map((f) => (f instanceof Error ? f.message : String(f))).sort();
  const hints = new Set(
    failures.map((f) => (f instanceof HastackError ? f.hint : undefined)).filter((h) => h !== undefined),
  );
  throw new HastackError(
    codes.size === 1 ? ([...codes][0] ?? "E_SSH_CONNECT") : "E_SSH_CONNECT",
    `Cannot reach ${failures.length} hosts:\n  ${lines.join("\n  ")}`,
    {
      cause: first,
      ...(hints.size === 1 ? { hint: [...hints][0] } : {}),
    },
  );
}
