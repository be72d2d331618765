/**
 * @module
 * The RabbitMQ part: the cluster's definitions (vhosts, users with their password hashes,
 * permissions, policies, queues, exchanges, bindings), as GET /api/definitions gives them to
 * hastack's administrator on a controller's loopback (`rabbitmqctl export_definitions` boots an
 * Erlang VM per call: seconds on an idle controller, half a minute on a loaded one). They are
 * stored as RabbitMQ wrote them, the file `rabbitmqctl import_definitions` takes back, after a
 * check through zod that they parse and hold the site's vhost and hastack's administrator.
 */
import { z } from "zod";
import { type MgmtCredentials, mgmtRequest, refused } from "../../hostkit/rabbitmq-http.ts";
import type { Transport } from "../../transport/types.ts";
import { HastackError } from "../../util/errors.ts";
import type { Finding } from "./content.ts";
import type { RabbitmqExtra } from "./extras-manifest.ts";

const Named = z.object({ name: z.string() });

export const DefinitionsSchema = z.object({
  rabbitmq_version: z.string().optional(),
  rabbit_version: z.string().optional(),
  users: z.array(Named),
  vhosts: z.array(Named),
  permissions: z.array(z.object({ user: z.string(), vhost: z.string() })).default([]),
  queues: z.array(z.object({ name: z.string(), vhost: z.string() })).default([]),
});

/** What the definitions must hold: the site's vhost and hastack's administrator. */
export interface DefinitionsWant {
  vhost: string;
  users: readonly string[];
}

/** The definitions as RabbitMQ's management API gives them (the body, byte for byte). */
export async function fetchDefinitions(t: Transport, credentials: MgmtCredentials): Promise<string> {
  const what = "export RabbitMQ's definitions";
  const answer = await mgmtRequest(t, "GET", "/api/definitions", credentials, what, { timeoutMs: 60_000 });
  if (answer.status !== 200) throw refused(t, what, answer);
  return answer.body;
}

/** Parses definitions; the record the manifest keeps, or the problems found (never their content). */
export function readDefinitions(
  text: string,
  want: DefinitionsWant,
): { record: RabbitmqExtra["rabbitmq"]; problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { record: { version: "", vhosts: [], users: [], queues: 0 }, problems: ["not JSON"] };
  }
  const parsed = DefinitionsSchema.safeParse(data);
  if (!parsed.success) {
    const where = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`)
      .join("; ");
    return {
      record: { version: "", vhosts: [], users: [], queues: 0 },
      problems: [`not RabbitMQ definitions (${where})`],
    };
  }
  const d = parsed.data;
  const record = {
    version: d.rabbitmq_version ?? d.rabbit_version ?? "",
    vhosts: d.vhosts.map((v) => v.name).sort(),
    users: d.users.map((u) => u.name).sort(),
    queues: d.queues.length,
  };
  const problems = [
    ...(record.vhosts.includes(want.vhost) ? [] : [`no vhost ${want.vhost}`]),
    ...want.users.filter((u) => !record.users.includes(u)).map((u) => `no user ${u}`),
  ];
  return { record, problems };
}

/** `backup run`'s check before the definitions are stored: a problem stops the run. */
export function requireDefinitions(
  host: string,
  text: string,
  want: DefinitionsWant,
): RabbitmqExtra["rabbitmq"] {
  const { record, problems } = readDefinitions(text, want);
  if (problems.length > 0)
    throw new HastackError(
      "E_BACKUP",
      `Cannot back up RabbitMQ's definitions from ${host}: ${problems.join("; ")}`,
    );
  return record;
}

/** verify's finding: the stored definitions parse, hold what they must, and match the manifest's record. */
export function checkDefinitions(text: string, extra: RabbitmqExtra, want: DefinitionsWant): Finding {
  const { record, problems } = readDefinitions(text, want);
  const was = extra.rabbitmq;
  if (problems.length === 0) {
    if (record.vhosts.join() !== was.vhosts.join())
      problems.push(`vhosts ${record.vhosts.join(", ")}, recorded ${was.vhosts.join(", ")}`);
    if (record.users.join() !== was.users.join())
      problems.push(`users ${record.users.join(", ")}, recorded ${was.users.join(", ")}`);
    if (record.queues !== was.queues) problems.push(`${record.queues} queues, recorded ${was.queues}`);
  }
  return problems.length === 0
    ? {
        ok: true,
        check: "rabbitmq definitions",
        detail: `RabbitMQ ${record.version}: ${record.vhosts.length} vhost(s), ${record.users.length} user(s), ${record.queues} queue(s) as recorded`,
      }
    : { ok: false, check: "rabbitmq definitions", detail: problems.join("; ") };
}
