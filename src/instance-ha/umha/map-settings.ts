/**
 * @module
 * umha.conf to the inventory's `instance_ha:`. What has a counterpart is mapped (the valve, the
 * debounce, the mail and its rate limit); every other key gets a report line saying why not.
 * `has_IPMI = false` (UMHA evacuating hosts it never powered off) is refused outright: hastack
 * never evacuates a host it has not fenced.
 */
import type { SecretValues } from "../../inventory/secrets-file.ts";
import { HastackError } from "../../util/errors.ts";
import type { Section, UmhaConf } from "./conf.ts";
import type { ReportEntry, Setting } from "./report-types.ts";

/** The secret an imported SMTP AUTH password is stored under. */
export const SMTP_SECRET = "instance_ha_smtp";

/** Why each key without a counterpart is not imported. */
const NO_COUNTERPART: Partial<Record<Section, Record<string, string>>> = {
  DEFAULT: {
    ping_count:
      "hastack's agents send authenticated heartbeats over each network every second instead of pings",
    allow_evacuate_local_vm:
      "hastack's Nova keeps every instance disk on Ceph RBD when the site has Ceph: no VM has a local disk to lose",
    on_share_storage:
      "hastack evacuates on shared storage whenever the site has Ceph (its disks are RBD images)",
    ipmi_check_max_count: "hastack's fence powers the host off through its BMC and confirms it off itself",
    ipmi_check_interval: "hastack's fence powers the host off through its BMC and confirms it off itself",
    force_evacuate_when_ipmi_unknown:
      "hastack never evacuates a host whose fence is unconfirmed (power off through the BMC, else the Ceph blocklist)",
    interval_check_nova_service:
      "hastack forces the service down in Nova after the fence instead of waiting for Nova to notice",
    max_second_wait_for_service_down:
      "hastack forces the service down in Nova after the fence instead of waiting for Nova to notice",
    seconds_before_check_vm_status: "hastack tracks every evacuated VM until it is ACTIVE on its new host",
  },
  email: {
    mail_subject: "hastack's alert subjects name the event and host (one per kind, host and reason)",
  },
  time: {
    sample_interval: "there is no metering pipeline: the agents' heartbeats come every second",
    ha_check_interval:
      "replaced by 1 s heartbeats: heartbeat_interval_s keeps its default of 1 (UMHA's 180 s check would detect in minutes)",
    evacuate_timeout: "hastack tracks each VM to ACTIVE with its own timeouts and retries",
  },
  valve: {
    continue_count:
      "hastack counts a host back after 5 good evaluations, one a second (not an inventory setting)",
  },
};

export interface SettingsPlan {
  settings: Setting[];
  secrets: SecretValues;
  report: ReportEntry[];
}

export function mapSettings(conf: UmhaConf): SettingsPlan {
  const { DEFAULT, valve } = conf.values;
  const name = conf.file;
  if (DEFAULT.has_IPMI?.value === false) {
    throw new HastackError(
      "E_UMHA_REFUSED",
      `Cannot import ${name}: has_IPMI = false (line ${DEFAULT.has_IPMI.line}) means evacuating computes that were never fenced, and hastack never evacuates a host it has not fenced`,
      {
        hint: "give every compute a BMC (a line hostname:ip:username:password in ipmi_info, or hosts.<name>.bmc in the inventory with its password via `hastack secrets set`), set has_IPMI = true in the umha.conf you import, and run the import again",
      },
    );
  }
  const out: SettingsPlan = { settings: [], secrets: {}, report: [] };
  const subject = (section: string, key: string, value: unknown) =>
    `${name} [${section}] ${key} = ${String(value)}`;

  for (const [section, keys] of Object.entries(NO_COUNTERPART)) {
    const values = conf.values[section as Section] as Record<string, { value: unknown } | undefined>;
    for (const [key, why] of Object.entries(keys)) {
      const v = values[key];
      if (v)
        out.report.push({ subject: subject(section, key, v.value), outcome: "not-imported", detail: why });
    }
  }
  if (DEFAULT.has_IPMI) {
    out.report.push({
      subject: subject("DEFAULT", "has_IPMI", true),
      outcome: "unchanged",
      detail: "hastack always fences through the BMC (ipmi_info gives each host's)",
    });
  }
  for (const key of ["business_connectivity_cfg", "path_access_ok_cfg"] as const) {
    const v = DEFAULT[key];
    if (!v) continue;
    out.report.push({
      subject: `${name} [DEFAULT] ${key} (enabled: ${v.value.enabled})`,
      outcome: v.value.enabled ? "warning" : "not-imported",
      detail:
        "hastack's signals are heartbeats over the management and storage networks and the BMC's power state; it has no business-network or storage-path check",
    });
  }
  if (DEFAULT.really_evacuate?.value === false) {
    out.report.push({
      subject: subject("DEFAULT", "really_evacuate", false),
      outcome: "warning",
      detail:
        "UMHA ran dry (decide, never evacuate); the inventory has no dry-run switch yet, so hastack's engine WILL fence and evacuate: set instance_ha.enabled: false until you want it to act",
    });
  } else if (DEFAULT.really_evacuate) {
    out.report.push({
      subject: subject("DEFAULT", "really_evacuate", true),
      outcome: "unchanged",
      detail: "hastack evacuates",
    });
  }

  if (valve.error_count) {
    const n = Math.max(2, valve.error_count.value);
    out.settings.push({
      path: ["instance_ha", "missed_heartbeats"],
      value: n,
      subject: subject("valve", "error_count", valve.error_count.value),
      detail: `UMHA counted bad checks ${checkInterval(conf)}; hastack counts missed 1 s heartbeats: a network is silent after ${n} (at least 2), the host fails after 3 silent evaluations`,
    });
  }
  mapValve(conf, out);
  mapMail(conf, out);
  for (const u of conf.unknown) {
    out.report.push({
      subject: `${name} [${u.section}] ${u.key} (line ${u.line})`,
      outcome: "not-imported",
      detail: "not a key of UMHA's documented umha.conf",
    });
  }
  for (const section of new Set(conf.ignored.map((i) => i.section))) {
    const keys = conf.ignored.filter((i) => i.section === section).map((i) => i.key);
    out.report.push({
      subject: `${name} [${section}] ${keys.join(", ")}`,
      outcome: "not-imported",
      detail:
        section === "auth"
          ? "hastack's engine has a Keystone user of its own, made by the deploy (values not read)"
          : "hastack's engine keeps its history in a database of its own on the site's Galera, made by the deploy (values not read)",
    });
  }
  return out;
}

function checkInterval(conf: UmhaConf): string {
  const t = conf.values.time.ha_check_interval?.value;
  return t === undefined ? "" : `${t} s apart`;
}

/**
 * UMHA stops when >= N hosts (or >= ratio of them) fail at once, per failure kind; hastack's one
 * valve stops when MORE than max_failed_hosts (or max_failed_percent) do: N - 1, and the
 * strictest of the three kinds.
 */
function mapValve(conf: UmhaConf, out: SettingsPlan): void {
  const v = conf.values.valve;
  const kinds = ["storage", "power_off", "panic"] as const;
  const numbers = kinds.flatMap((k) =>
    v[`${k}_number`] ? [[k, v[`${k}_number`]?.value ?? 0] as const] : [],
  );
  const ratios = kinds.flatMap((k) => (v[`${k}_ratio`] ? [[k, v[`${k}_ratio`]?.value ?? 0] as const] : []));
  const listed = (xs: readonly (readonly [string, number])[], suffix: string) =>
    xs.map(([k, n]) => `${k}_${suffix} = ${n}`).join(", ");
  if (numbers.length > 0) {
    const least = Math.min(...numbers.map(([, n]) => n));
    const hosts = Math.max(1, least - 1);
    out.settings.push({
      path: ["instance_ha", "max_failed_hosts"],
      value: hosts,
      subject: `${conf.file} [valve] ${listed(numbers, "number")}`,
      detail: `hastack has one valve for every kind of failure: the strictest (${least} or more at once) is more than ${hosts}${least - 1 < 1 ? " (hastack always lets one host fail over)" : ""}`,
    });
  }
  if (ratios.length > 0) {
    const least = Math.min(...ratios.map(([, r]) => r));
    // Whole percents only: "more than P%" blocks everything ">= ratio" blocked (and a sliver below).
    const percent = Math.min(100, Math.max(1, Math.ceil(least * 100) - 1));
    out.settings.push({
      path: ["instance_ha", "max_failed_percent"],
      value: percent,
      subject: `${conf.file} [valve] ${listed(ratios, "ratio")}`,
      detail: `hastack has one valve for every kind of failure: the strictest (${least * 100}% or more at once) is more than ${percent}%`,
    });
  }
}

function mapMail(conf: UmhaConf, out: SettingsPlan): void {
  const e = conf.values.email;
  const at = (key: string, value: unknown) => `${conf.file} [email] ${key} = ${String(value)}`;
  if (e.send_interval_hours) {
    out.settings.push({
      path: ["instance_ha", "notify", "interval_s"],
      value: Math.round(e.send_interval_hours.value * 3600),
      subject: at("send_interval_hours", e.send_interval_hours.value),
      detail: "at most one alert per subject per interval",
    });
  }
  if (e.enable_send_mail?.value !== true) {
    if (e.enable_send_mail) {
      out.report.push({
        subject: at("enable_send_mail", false),
        outcome: "not-imported",
        detail: "mail was off: no instance_ha.notify.smtp (the other [email] keys are not imported)",
      });
    }
    return;
  }
  const missing = (["smtp_server", "sender", "receiver_list"] as const).filter((k) => !e[k]);
  if (missing.length > 0 || !e.smtp_server || !e.sender || !e.receiver_list) {
    out.report.push({
      subject: at("enable_send_mail", true),
      outcome: "warning",
      detail: `mail is on but [email] lacks ${missing.join(", ")}: no instance_ha.notify.smtp imported`,
    });
    return;
  }
  const auth = e.need_auth?.value === true;
  // AUTH with no user key: the sender's address is the account (what most relays expect).
  const username = auth ? (e.username?.value ?? e.sender.value) : undefined;
  const password = auth ? e.password?.value : undefined;
  if (password !== undefined) out.secrets[SMTP_SECRET] = password;
  out.settings.push({
    path: ["instance_ha", "notify", "smtp"],
    value: {
      host: e.smtp_server.value,
      ...(e.smtp_port ? { port: e.smtp_port.value } : {}),
      from: e.sender.value,
      to: e.receiver_list.value,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password_secret: SMTP_SECRET } : {}),
    },
    subject: `${conf.file} [email] enable_send_mail, smtp_server, smtp_port, sender, receiver_list${auth ? ", need_auth, password" : ""}`,
    detail: `alerts mailed through ${e.smtp_server.value}${password !== undefined ? `; the password goes to secret ${SMTP_SECRET}` : ""}${auth && !e.username ? " (AUTH user: the sender's address)" : ""}${auth && password === undefined ? "; need_auth but no password: set it with `hastack secrets set` after adding password_secret" : ""}`,
  });
}
