/**
 * @module
 * The API's query parameters, checked with zod: an unknown parameter is refused rather than
 * ignored, so a typo (`?hots=cmp1`) is an error, not the whole history.
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";
import { HOST_NAME } from "../heartbeat.ts";
import { EVENT_KINDS } from "../store-rows.ts";

/** The largest page of history one request reads. */
export const MAX_HISTORY_LIMIT = 1000;

export const HostsParams = z.strictObject({});

export const HistoryParams = z.strictObject({
  host: z.string().regex(HOST_NAME, "not a host name").optional(),
  kind: z.enum(EVENT_KINDS).optional(),
  since: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  limit: z
    .string()
    .regex(/^\d+$/, "not a whole number")
    .transform(Number)
    .pipe(z.int().min(1).max(MAX_HISTORY_LIMIT))
    .default(100),
});

/** The query parsed, or E_HA_API_QUERY naming each bad parameter. */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  query: Record<string, string>,
  what: string,
): z.output<T> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) =>
    i.code === "unrecognized_keys"
      ? `unknown parameter(s) ${i.keys.join(", ")}`
      : `${i.path.join(".") || "query"}: ${i.message}`,
  );
  throw new HastackError("E_HA_API_QUERY", `Cannot ${what}: ${issues.join("; ")}`);
}
