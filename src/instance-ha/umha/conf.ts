/**
 * @module
 * UMHA's `umha.conf` (an oslo.config INI file): its sections, every key the importer knows with
 * the type UMHA gave it, and the line each was written on. [auth] and [db] are read as key names
 * only: hastack makes its own Keystone user and history database, and their values (passwords)
 * are never looked at.
 */
import { z } from "zod";
import type { LineError } from "./lines.ts";

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "yes", "no", "on", "off", "1", "0"], { error: "must be true or false" }))
  .transform((v) => ["true", "yes", "on", "1"].includes(v));
const count = z.coerce.number({ error: "must be a whole number" }).int("must be a whole number").min(0);
const ratio = z.coerce
  .number({ error: "must be a ratio" })
  .min(0, "must be a ratio")
  .max(1, "must be a ratio");
const hours = z.coerce.number({ error: "must be a number of hours" }).min(0, "must be a number of hours");
const text = z.string().min(1, "is empty");
const port = z.coerce
  .number({ error: "must be a port" })
  .int("must be a port")
  .min(1, "must be a port")
  .max(65535);
const email = z.email({ error: "is not an e-mail address" });
const emails = z
  .string()
  .transform((v) => v.split(/[\s,;]+/).filter((a) => a !== ""))
  .pipe(z.array(email).min(1, "lists no address"));
/** `enabled:0,severity:0`: a further check's switch and severity. */
const checkCfg = z
  .string()
  .regex(/^\s*enabled\s*:\s*[01]\s*,\s*severity\s*:\s*\d+\s*$/, "must be enabled:<0|1>,severity:<n>")
  .transform((v) => ({ enabled: /enabled\s*:\s*1/.test(v) }));

/** Every key of UMHA's sample umha.conf, by section (src: the UMHA reference, seed 004). */
export const CONF_KEYS = {
  DEFAULT: {
    has_IPMI: boolean,
    ping_count: count,
    allow_evacuate_local_vm: boolean,
    on_share_storage: boolean,
    ipmi_check_max_count: count,
    ipmi_check_interval: count,
    force_evacuate_when_ipmi_unknown: boolean,
    business_connectivity_cfg: checkCfg,
    path_access_ok_cfg: checkCfg,
    really_evacuate: boolean,
    interval_check_nova_service: count,
    max_second_wait_for_service_down: count,
    seconds_before_check_vm_status: count,
  },
  email: {
    enable_send_mail: boolean,
    smtp_server: text,
    smtp_port: port,
    need_auth: boolean,
    username: text,
    sender: email,
    password: text,
    receiver_list: emails,
    mail_subject: z.string(),
    send_interval_hours: hours,
  },
  time: { sample_interval: count, ha_check_interval: count, evacuate_timeout: count },
  valve: {
    storage_number: count,
    storage_ratio: ratio,
    power_off_number: count,
    power_off_ratio: ratio,
    panic_number: count,
    panic_ratio: ratio,
    error_count: count,
    continue_count: count,
  },
} as const;

/**
 * The reference names the mail keys in prose only ("SMTP server/port, sender, password"): the
 * spellings UMHA deployments are likely to have, folded to the names above.
 */
const EMAIL_ALIASES: Readonly<Record<string, keyof (typeof CONF_KEYS)["email"]>> = {
  mail_server: "smtp_server",
  smtp_host: "smtp_server",
  server: "smtp_server",
  mail_port: "smtp_port",
  port: "smtp_port",
  user: "username",
  smtp_user: "username",
  mail_sender: "sender",
  from: "sender",
  sender_password: "password",
  smtp_password: "password",
  mail_password: "password",
};

/** Sections whose values hastack never reads: its engine has a Keystone user and database of its own. */
export const IGNORED_SECTIONS = ["auth", "db"] as const;

type Keys = typeof CONF_KEYS;
export type Section = keyof Keys;
export type ConfValue<S extends Section, K extends keyof Keys[S]> = Keys[S][K] extends z.ZodType
  ? z.output<Keys[S][K]>
  : never;

export interface UmhaConf {
  file: string;
  /** Typed values of the known keys, with their line. */
  values: { [S in Section]: { [K in keyof Keys[S]]?: { value: ConfValue<S, K>; line: number } } };
  /** Keys in a section of CONF_KEYS that the importer does not know, and unknown sections. */
  unknown: { section: string; key: string; line: number }[];
  /** Key names present in [auth] and [db] (values not kept). */
  ignored: { section: string; key: string; line: number }[];
}

export function parseUmhaConf(file: string, source: string): { conf: UmhaConf; errors: LineError[] } {
  const conf: UmhaConf = {
    file,
    values: { DEFAULT: {}, email: {}, time: {}, valve: {} },
    unknown: [],
    ignored: [],
  };
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  let section: string | undefined;
  source.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\r$/, "").trim();
    if (content === "" || content.startsWith("#") || content.startsWith(";")) return;
    const header = /^\[([^\]]+)\]$/.exec(content);
    if (header) {
      section = header[1]?.trim();
      return;
    }
    const split = content.includes("=") ? content.indexOf("=") : content.indexOf(":");
    if (split <= 0) {
      errors.push({ file, line, problem: "not a 'key = value' line" });
      return;
    }
    if (section === undefined) {
      errors.push({ file, line, problem: "a key before any [section]" });
      return;
    }
    const written = content.slice(0, split).trim();
    const value = content.slice(split + 1).trim();
    const key = section === "email" ? (EMAIL_ALIASES[written] ?? written) : written;
    const id = `${section}.${key}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      errors.push({ file, line, problem: `[${section}] ${key} is also set on line ${earlier}` });
      return;
    }
    seen.set(id, line);
    if ((IGNORED_SECTIONS as readonly string[]).includes(section)) {
      conf.ignored.push({ section, key, line });
      return;
    }
    const schemas = (CONF_KEYS as Record<string, Record<string, z.ZodType>>)[section];
    const schema = schemas?.[key];
    if (!schema) {
      conf.unknown.push({ section, key, line });
      return;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      errors.push({
        file,
        line,
        problem: `[${section}] ${key} ${parsed.error.issues[0]?.message ?? "is invalid"}`,
      });
      return;
    }
    (conf.values as Record<string, Record<string, unknown>>)[section] = {
      ...(conf.values as Record<string, Record<string, unknown>>)[section],
      [key]: { value: parsed.data, line },
    };
  });
  return { conf, errors };
}
