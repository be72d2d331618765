import { checkFencePaths, fenceFailureLines } from "../hostkit/fence-paths.ts";
import { requireServableCertificate } from "../inventory/site-tls.ts";
import type { Topology } from "../topology/types.ts";
import type { Transport } from "../transport/types.ts";
import { HastackError } from "../util/errors.ts";
import type { Plan } from "./plan.ts";

/**
 * Before any change: every host answers over SSH (a refused host key or a dead host stops the
 * run), then, given the site, every controller reaches every other controller's BMC with the
 * inventory's credentials. A broken fence path found here costs seconds; found by Pacemaker it
 * costs a 180 s wait for a fence device that never starts.
 */
export async function preflight(
  plan: Plan,
  transports: ReadonlyMap<string, Transport>,
  site?: { topology: Topology; secrets: Readonly<Record<string, string>> },
): Promise<void> {
  // Seconds, and before any host is touched: a certificate that no longer fits the site.
  if (site) requireServableCertificate(site.topology, site.secrets);
  await reachHosts(plan, transports);
  if (site) await reachBmcs(site.topology, site.secrets, transports);
}

async function reachBmcs(
  topology: Topology,
  secrets: Readonly<Record<string, string>>,
  transports: ReadonlyMap<string, Transport>,
): Promise<void> {
  const paths = await checkFencePaths({
    topology,
    secret: (name) => secrets[name],
    exec: (host, argv, opts) => {
      const t = transports.get(host);
      if (!t) throw new HastackError("E_NO_TRANSPORT", `${host}: no connection was set up`);
      return t.exec(argv, opts);
    },
  });
  const lines = fenceFailureLines(paths);
  if (lines.length === 0) return;
  const hints = [...new Set(paths.flatMap((p) => (p.ok || !p.hint ? [] : [p.hint])))];
  throw new HastackError(
    "E_FENCE_CHECK",
    lines.length === 1 ? `${lines[0]}` : `Cannot fence every controller:\n  ${lines.join("\n  ")}`,
    { hint: `${hints.join("; ")} (nothing was changed)` },
  );
}

async function reachHosts(plan: Plan, transports: ReadonlyMap<string, Transport>): Promise<void> {
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
