/**
 * @module
 * What instance HA reads from Placement to plan an evacuation before the fence: every resource
 * provider with its inventories and usages (capacity.ts's input), and what each server of the
 * failed host holds (its allocations: the exact resources the scheduler claimed for it, flavor,
 * swap and ephemeral included, rather than a guess from the flavor). Answers are read with zod.
 */
import { z } from "zod";
import { HastackError } from "../util/errors.ts";
import type { Answer, Session } from "./client.ts";

/** 1.14 added nested providers' fields; 1.28 gave allocations consumer generations. Every 2025.1 serves 1.39. */
export const PLACEMENT_API_VERSION = "1.28";

const HEADERS = { "openstack-api-version": `placement ${PLACEMENT_API_VERSION}` };

const Providers = z.object({
  resource_providers: z.array(z.object({ uuid: z.string().min(1), name: z.string().min(1) })),
});
const Inventories = z.object({ inventories: z.record(z.string(), z.record(z.string(), z.unknown())) });
const Usages = z.object({ usages: z.record(z.string(), z.int().min(0)) });
const Allocations = z.object({
  allocations: z.record(z.string(), z.object({ resources: z.record(z.string(), z.int().min(0)) })),
});

export interface Placement {
  /** Every provider with its inventories and usages (one request per provider and kind). */
  providers(): Promise<unknown[]>;
  /** What a consumer (a server) holds, per provider uuid. */
  allocations(consumer: string): Promise<Record<string, Record<string, number>>>;
}

export function placementApi(session: Pick<Session, "url" | "call">, timeoutMs = 30_000): Placement {
  async function read<S extends z.ZodType>(what: string, schema: S, path: string): Promise<z.output<S>> {
    let answer: Answer;
    try {
      answer = await session.call("GET", `${session.url("placement")}${path}`, undefined, timeoutMs, HEADERS);
    } catch (cause) {
      throw new HastackError("E_OPENSTACK_API", `Cannot ${what}: no answer from Placement`, { cause });
    }
    if (answer.status >= 400)
      throw new HastackError(
        "E_OPENSTACK_API",
        `Cannot ${what}: HTTP ${answer.status}: ${answer.body.replace(/\s+/g, " ").slice(0, 200)}`,
      );
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      // Not JSON (a proxy's page): zod says so below, as for any answer of the wrong shape.
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new HastackError(
        "E_OPENSTACK_ANSWER",
        `Cannot ${what}: Placement's answer is not what its API reference documents: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data;
  }
  return {
    async providers() {
      const { resource_providers } = await read("list resource providers", Providers, "/resource_providers");
      return Promise.all(
        resource_providers.map(async (p) => {
          const id = encodeURIComponent(p.uuid);
          const [{ inventories }, { usages }] = await Promise.all([
            read(`read the inventories of ${p.name}`, Inventories, `/resource_providers/${id}/inventories`),
            read(`read the usages of ${p.name}`, Usages, `/resource_providers/${id}/usages`),
          ]);
          // capacity.ts's parsePlacement checks the inventories' fields.
          return { uuid: p.uuid, name: p.name, inventories, usages };
        }),
      );
    },
    async allocations(consumer) {
      const what = `read the allocations of server ${consumer}`;
      const { allocations } = await read(what, Allocations, `/allocations/${encodeURIComponent(consumer)}`);
      return Object.fromEntries(Object.entries(allocations).map(([rp, a]) => [rp, a.resources]));
    },
  };
}

/**
 * Allocations of a consumer that is no server: what a drill holds on a compute to leave it only
 * so much room (the capacity drill). Nova's periodic audit keeps an allocation whose consumer it
 * does not know (it may be a server being built), so the hold stays until it is released.
 */
export interface PlacementHolds {
  /** PUT /allocations/{consumer}: replaces whatever the consumer held. */
  hold(consumer: string, provider: string, resources: Record<string, number>): Promise<void>;
  /** DELETE /allocations/{consumer}; a consumer with nothing held is no error. */
  release(consumer: string): Promise<void>;
}

export function placementHolds(
  session: Pick<Session, "url" | "call" | "projectId">,
  timeoutMs = 30_000,
): PlacementHolds {
  async function write(what: string, method: string, path: string, body?: unknown, ok = [204]) {
    let answer: Answer;
    try {
      answer = await session.call(method, `${session.url("placement")}${path}`, body, timeoutMs, HEADERS);
    } catch (cause) {
      throw new HastackError("E_OPENSTACK_API", `Cannot ${what}: no answer from Placement`, { cause });
    }
    if (!ok.includes(answer.status))
      throw new HastackError(
        "E_OPENSTACK_API",
        `Cannot ${what}: HTTP ${answer.status}: ${answer.body.replace(/\s+/g, " ").slice(0, 200)}`,
      );
  }
  return {
    hold: (consumer, provider, resources) =>
      write(
        `hold ${JSON.stringify(resources)} on provider ${provider}`,
        "PUT",
        `/allocations/${encodeURIComponent(consumer)}`,
        {
          allocations: { [provider]: { resources } },
          // 1.28: a new consumer has no generation yet.
          consumer_generation: null,
          project_id: session.projectId,
          user_id: "hastack-drill",
        },
      ),
    release: (consumer) =>
      write(
        `release the allocations of ${consumer}`,
        "DELETE",
        `/allocations/${encodeURIComponent(consumer)}`,
        undefined,
        [204, 404],
      ),
  };
}
