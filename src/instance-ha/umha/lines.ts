/**
 * @module
 * UMHA's two per-compute files, one line per compute: `ipmi_info` (hostname:ip:username:password)
 * and `node_storage_ip_info` (hostname:storage_ip). Each bad line is a `LineError` naming the
 * file, the line and the field; no error ever quotes a field's value (a misaligned line can put a
 * password in any field).
 */
import { z } from "zod";
import { HastackError } from "../../util/errors.ts";

/** One thing wrong in one of UMHA's files: where, and what (never the value). */
export interface LineError {
  file: string;
  line: number;
  problem: string;
}

/** UMHA wrote FQDNs (node-3.domain.tld); a short name is accepted too. */
const UmhaHostname = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9-]{1,63})*$/, "hostname: not a host name");
const Address = (field: string) => z.ipv4({ error: `${field}: not an IPv4 address` });

const IpmiFields = z.strictObject({
  host: UmhaHostname,
  address: Address("ip"),
  user: z.string().min(1, "username: empty"),
  password: z.string().min(1, "password: empty"),
});
const StorageFields = z.strictObject({ host: UmhaHostname, address: Address("storage_ip") });

interface Located {
  line: number;
  /** As UMHA wrote it (an FQDN). */
  fqdn: string;
  /** What hastack's inventory calls it: the first label, lowercased. */
  host: string;
}
export type IpmiEntry = Located & Omit<z.output<typeof IpmiFields>, "host">;
export type StorageEntry = Located & Omit<z.output<typeof StorageFields>, "host">;

export function shortName(fqdn: string): string {
  return (fqdn.split(".")[0] ?? fqdn).toLowerCase();
}

/** `hostname:ip:username:password`; everything after the third ':' is the password (it may hold one). */
export function parseIpmiInfo(file: string, text: string): { entries: IpmiEntry[]; errors: LineError[] } {
  return parseLines(file, text, "hostname:ip:username:password", (parts) =>
    IpmiFields.safeParse(
      parts.length < 4
        ? undefined
        : { host: parts[0], address: parts[1], user: parts[2], password: parts.slice(3).join(":") },
    ),
  );
}

/** `hostname:storage_ip`. */
export function parseStorageIpInfo(
  file: string,
  text: string,
): { entries: StorageEntry[]; errors: LineError[] } {
  return parseLines(file, text, "hostname:storage_ip", (parts) =>
    StorageFields.safeParse(parts.length !== 2 ? undefined : { host: parts[0], address: parts[1] }),
  );
}

function parseLines<T extends { host: string }>(
  file: string,
  text: string,
  format: string,
  fields: (parts: string[]) => z.ZodSafeParseResult<T>,
): { entries: (Located & Omit<T, "host">)[]; errors: LineError[] } {
  const entries: (Located & Omit<T, "host">)[] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, "").trim();
    if (content === "" || content.startsWith("#")) return;
    const parts = content.split(":");
    const result = fields(parts);
    if (!result.success) {
      const problem = result.error.issues.every((i) => i.path.length === 0)
        ? `expected ${format}, found ${parts.length} field(s) separated by ':'`
        : result.error.issues.map((i) => i.message).join("; ");
      errors.push({ file, line, problem });
      return;
    }
    const { host: fqdn, ...rest } = result.data;
    const host = shortName(fqdn);
    const earlier = seen.get(host);
    if (earlier !== undefined) {
      errors.push({ file, line, problem: `${host} is also on line ${earlier}` });
      return;
    }
    seen.set(host, line);
    entries.push({ line, fqdn, host, ...rest } as Located & Omit<T, "host">);
  });
  return { entries, errors };
}

/** Every bad line of every file in one error, so the operator fixes them in one pass. */
export function lineErrors(dir: string, errors: readonly LineError[]): HastackError {
  const lines = errors.map((e) => `  ${e.file} line ${e.line}: ${e.problem}`);
  return new HastackError(
    "E_UMHA_FILE",
    `Cannot import UMHA's files from ${dir}: ${errors.length} bad line(s)\n${lines.join("\n")}`,
    { hint: "fix those lines (values are not shown: a line may hold a password) and run the import again" },
  );
}
