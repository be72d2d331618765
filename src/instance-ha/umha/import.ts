/**
 * @module
 * `hastack ha import-umha`: UMHA's files (umha.conf, ipmi_info, node_storage_ip_info) planned
 * into an inventory, then written: the inventory edited in place through the yaml Document API
 * (comments and key order kept), validated as a whole before it replaces the file, and the
 * passwords stored in the secrets file (0600). A conflict with what the inventory or the secrets
 * file already says stops the import before anything is written.
 */
import { readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse, parseDocument } from "yaml";
import { readSecrets, type SecretValues, writeSecrets } from "../../inventory/secrets-file.ts";
import type { ServiceDef } from "../../services/types.ts";
import { loadTopology, validateInventory } from "../../topology/load.ts";
import { HastackError } from "../../util/errors.ts";
import { parseUmhaConf, type UmhaConf } from "./conf.ts";
import { keepLayout } from "./keep-layout.ts";
import {
  type IpmiEntry,
  type LineError,
  lineErrors,
  parseIpmiInfo,
  parseStorageIpInfo,
  type StorageEntry,
} from "./lines.ts";
import { mapHosts } from "./map-hosts.ts";
import { mapSettings } from "./map-settings.ts";
import type { Outcome, ReportEntry, Setting } from "./report-types.ts";

/** The report's order: what changes first, what needs the operator's eye next. */
const OUTCOME_ORDER: readonly Outcome[] = ["set", "kept", "warning", "unchanged", "not-imported"];

export const UMHA_FILES = { conf: "umha.conf", ipmi: "ipmi_info", storage: "node_storage_ip_info" } as const;

export interface UmhaImport {
  dir: string;
  inventory: string;
  secretsFile: string;
  /** The values the import writes (those the inventory does not already have). */
  settings: Setting[];
  /** Secrets to add (values: never print them). */
  secrets: SecretValues;
  report: ReportEntry[];
  notes: string[];
}

interface UmhaFiles {
  conf?: UmhaConf;
  ipmi?: { file: string; entries: IpmiEntry[] };
  storage?: { file: string; entries: StorageEntry[] };
  missing: string[];
}

/** Reads and checks the files UMHA kept in /etc/umha; every bad line of all three is one error. */
export async function readUmhaDir(dir: string): Promise<UmhaFiles> {
  const read = (name: string) =>
    readFile(join(dir, name), "utf8").catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === "ENOENT") return undefined;
      throw new HastackError(
        "E_UMHA_FILE",
        `Cannot read ${join(dir, name)}: ${cause.code ?? String(cause)}`,
        { cause },
      );
    });
  const [conf, ipmi, storage] = await Promise.all([
    read(UMHA_FILES.conf),
    read(UMHA_FILES.ipmi),
    read(UMHA_FILES.storage),
  ]);
  const out: UmhaFiles = { missing: [] };
  const errors: LineError[] = [];
  if (conf === undefined) out.missing.push(UMHA_FILES.conf);
  else {
    const parsed = parseUmhaConf(UMHA_FILES.conf, conf);
    out.conf = parsed.conf;
    errors.push(...parsed.errors);
  }
  if (ipmi === undefined) out.missing.push(UMHA_FILES.ipmi);
  else {
    const parsed = parseIpmiInfo(UMHA_FILES.ipmi, ipmi);
    out.ipmi = { file: UMHA_FILES.ipmi, entries: parsed.entries };
    errors.push(...parsed.errors);
  }
  if (storage === undefined) out.missing.push(UMHA_FILES.storage);
  else {
    const parsed = parseStorageIpInfo(UMHA_FILES.storage, storage);
    out.storage = { file: UMHA_FILES.storage, entries: parsed.entries };
    errors.push(...parsed.errors);
  }
  if (out.missing.length === 3)
    throw new HastackError(
      "E_UMHA_FILE",
      `Cannot import UMHA's files from ${dir}: none of ${Object.values(UMHA_FILES).join(", ")} is there`,
      {
        hint: "pass the directory holding UMHA's files (on a controller: /etc/umha)",
      },
    );
  if (errors.length > 0) throw lineErrors(dir, errors);
  return out;
}

/** What importing `dir` into `inventoryFile` would change; throws E_UMHA_CONFLICT or E_UMHA_REFUSED. */
export async function planUmhaImport(
  dir: string,
  inventoryFile: string,
  services: readonly ServiceDef[],
): Promise<UmhaImport> {
  const files = await readUmhaDir(dir);
  const topology = await loadTopology(inventoryFile, services);
  const document = parseDocument(await readFile(topology.source, "utf8"));
  const stored = await storedSecrets(topology.secretsFile);
  const settingsPlan = files.conf ? mapSettings(files.conf) : { settings: [], secrets: {}, report: [] };
  const hostsPlan = mapHosts(files, topology.hosts);
  const conflicts = [...hostsPlan.conflicts];
  const secrets: SecretValues = {};
  for (const [name, value] of Object.entries({ ...hostsPlan.secrets, ...settingsPlan.secrets })) {
    if (stored[name] === undefined) secrets[name] = value;
    else if (stored[name] !== value)
      conflicts.push(`secret ${name} in ${topology.secretsFile} already holds another value than UMHA's`);
  }
  if (conflicts.length > 0)
    throw new HastackError(
      "E_UMHA_CONFLICT",
      `Cannot import UMHA's files from ${dir} into ${topology.source}: they disagree with it\n${conflicts.map((c) => `  ${c}`).join("\n")}`,
      {
        hint: "find out which is right, correct the inventory, the secrets file or UMHA's file, and import again (nothing was written)",
      },
    );

  const report: ReportEntry[] = [];
  const settings: Setting[] = [];
  for (const s of [...hostsPlan.settings, ...settingsPlan.settings]) {
    const current = document.getIn(s.path, false) as { toJSON?: () => unknown } | unknown;
    const value =
      current !== null && typeof current === "object" && "toJSON" in current
        ? (current as { toJSON: () => unknown }).toJSON()
        : current;
    if (value === undefined) {
      settings.push(s);
      report.push({ subject: s.subject, outcome: "set", detail: `${s.path.join(".")}: ${s.detail}` });
    } else if (isDeepStrictEqual(value, s.value)) {
      report.push({
        subject: s.subject,
        outcome: "unchanged",
        detail: `${s.path.join(".")} already says so`,
      });
    } else {
      report.push({
        subject: s.subject,
        outcome: "kept",
        detail: `${s.path.join(".")}: the inventory's ${JSON.stringify(value)} is kept (UMHA: ${JSON.stringify(s.value)})`,
      });
    }
  }
  const fqdns = [...(files.ipmi?.entries ?? []), ...(files.storage?.entries ?? [])].filter(
    (e) => e.fqdn !== e.host,
  );
  const notes = [
    ...(fqdns.length > 0
      ? [
          `UMHA's host names are FQDNs; they are matched to the inventory by their short name (${fqdns[0]?.fqdn} -> ${fqdns[0]?.host})`,
        ]
      : []),
    ...files.missing.map((f) => `${f} is not in ${dir}: nothing imported from it`),
  ];
  return {
    dir,
    inventory: topology.source,
    secretsFile: topology.secretsFile,
    settings,
    secrets,
    report: [...report, ...hostsPlan.report, ...settingsPlan.report].sort(
      (a, b) => OUTCOME_ORDER.indexOf(a.outcome) - OUTCOME_ORDER.indexOf(b.outcome),
    ),
    notes,
  };
}

/**
 * Writes a plan: the edited inventory is validated from a file beside the inventory (relative
 * paths resolve the same) before anything is written; then the secrets, then the inventory (by
 * rename), so the inventory never names a secret the secrets file lacks.
 */
export async function writeUmhaImport(plan: UmhaImport, services: readonly ServiceDef[]): Promise<void> {
  const original = await readFile(plan.inventory, "utf8");
  const document = parseDocument(original);
  for (const s of plan.settings) document.setIn(s.path, document.createNode(s.value));
  // lineWidth 0: no long scalar of the operator's is folded onto two lines.
  const rewritten = document.toString({ lineWidth: 0 });
  const kept = keepLayout(original, rewritten);
  // Belt and braces: the layout kept must say what the document says, else the library's text.
  const edited = isDeepStrictEqual(parse(kept), document.toJS()) ? kept : rewritten;
  const temp = join(dirname(plan.inventory), `.${basename(plan.inventory)}.umha-${process.pid}`);
  await writeFile(temp, edited, { mode: (await stat(plan.inventory)).mode & 0o777 });
  try {
    const { problems } = await validateInventory(temp, services);
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0)
      throw new HastackError(
        "E_UMHA_INVALID",
        `Cannot import UMHA's files into ${plan.inventory}: the result would not validate\n${errors.map((p) => `  ${p.path.join(".")}: ${p.message}`).join("\n")}`,
        { hint: "fix the inventory or UMHA's files and import again (nothing was written)" },
      );
    if (Object.keys(plan.secrets).length > 0) {
      await writeSecrets(plan.secretsFile, { ...(await storedSecrets(plan.secretsFile)), ...plan.secrets });
    }
    await rename(temp, resolve(plan.inventory));
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The secrets file's values; none yet is no secrets (the import creates it, 0600). */
function storedSecrets(path: string): Promise<SecretValues> {
  return readSecrets(path).catch((e: unknown) => {
    if (e instanceof HastackError && e.code === "E_SECRETS_FILE_MISSING") return {};
    throw e;
  });
}
