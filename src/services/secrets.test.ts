import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { filesStep } from "../deploy/builtin-steps.ts";
import { unifiedDiff } from "../deploy/diff.ts";
import type { DeployEvent } from "../deploy/events.ts";
import { RestartBook, systemd } from "../deploy/restarts.ts";
import { secretsIn } from "../inventory/secrets.ts";
import { generateSecret, initSecrets, readSecrets, setSecret } from "../inventory/secrets-file.ts";
import { ensureSiteTls, PUBLIC_TLS_VALUES } from "../inventory/site-tls.ts";
import { exampleTopology } from "../testing/fixtures.ts";
import type { Topology } from "../topology/types.ts";
import { LocalTransport } from "../transport/local-transport.ts";
import { fileBytes } from "./materialize.ts";
import { services } from "./registry.ts";
import { type RenderedFile, renderTopology } from "./render.ts";
import { providedSecrets, secretSpecs } from "./secret-specs.ts";
import type { StepContext } from "./types.ts";

const topologies = [
  exampleTopology("lab"),
  exampleTopology("runbook-9-node"),
  exampleTopology("lab", (inv) => {
    inv.vip_manager = "keepalived";
  }),
];

/** Names of the secrets whose value appears in `text` (values under 6 characters cannot be told apart from chance). */
function leaked(text: string, values: Readonly<Record<string, string>>): string[] {
  return Object.entries(values)
    .filter(([, v]) => v.length >= 6 && text.includes(v))
    .map(([n]) => n);
}

/** A secrets file as `secrets init` + `secrets set` write it, read back as deploy reads it. */
async function realSecrets(topology: Topology, dir: string): Promise<Record<string, string>> {
  const path = join(dir, "site.secrets.yaml");
  await initSecrets(path, secretSpecs(services));
  for (const p of providedSecrets(topology)) await setSecret(path, p.name, generateSecret("password"));
  // The lab's site CA and certificate, issued by real openssl as `secrets init` issues them.
  await ensureSiteTls({ ...topology, secretsFile: path });
  return readSecrets(path);
}

/** The same names with new values: what the hosts hold before a rotation is deployed. */
function rotated(values: Readonly<Record<string, string>>): Record<string, string> {
  const specs = new Map(secretSpecs(services).map((s) => [s.name, s]));
  return Object.fromEntries(
    Object.keys(values).map((name) => {
      const spec = specs.get(name);
      return [name, spec ? generateSecret(spec.kind, spec.length) : generateSecret("password")];
    }),
  );
}

/**
 * The engine's files step under --dry-run, for real (LocalTransport on a temp root per host, the
 * hosts holding `onHost`'s values), with every diff it shows collected.
 */
async function dryRunDiffs(
  topology: Topology,
  files: ReadonlyMap<string, RenderedFile[]>,
  secrets: Record<string, string>,
  onHost: Record<string, string>,
  dir: string,
): Promise<Extract<DeployEvent, { type: "file-diff" }>[]> {
  const diffs: Extract<DeployEvent, { type: "file-diff" }>[] = [];
  const emit = (e: DeployEvent) => {
    if (e.type === "file-diff") diffs.push(e);
  };
  const env = { secrets, emit, restarts: new RestartBook(() => {}), units: systemd };
  const logs: string[] = [];
  const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), debug: () => {} };
  for (const host of topology.hosts) {
    const root = join(dir, "hosts", host.name);
    const list = files.get(host.name) ?? [];
    for (const file of list) {
      await mkdir(dirname(join(root, file.path)), { recursive: true });
      await writeFile(join(root, file.path), fileBytes(file, onHost));
    }
    const transport = new LocalTransport({ name: host.name, root });
    for (const service of new Set(list.map((f) => f.service))) {
      const step = filesStep(service, files, env);
      // Only what the files step reads; the runner would give it the rest.
      const ctx = { step: step.id, host, topology, transport, dryRun: true, log } as unknown as StepContext;
      await step.check?.(ctx);
    }
  }
  expect(leaked(logs.join("\n"), { ...secrets, ...onHost })).toEqual([]);
  return diffs;
}

describe("secret values", () => {
  it.each(topologies.map((t, i) => [i, t] as const))(
    "reach the bytes written to hosts, and no dry-run diff, even against rotated values (topology %i)",
    async (_i, topology) => {
      const dir = await mkdtemp(join(tmpdir(), "hastack-secrets-"));
      const values = await realSecrets(topology, dir);
      const { files } = renderTopology(topology, services);
      let used = 0;
      for (const file of [...files.values()].flat()) {
        const bytes = fileBytes(file, values);
        for (const name of secretsIn(file.text)) {
          const value = values[name] ?? "";
          const there =
            file.encoding === "base64"
              ? bytes.equals(Buffer.from(value, "base64"))
              : bytes.toString().includes(value);
          expect(there, `${file.host}:${file.path} gets the value of ${name}`).toBe(true);
          used++;
        }
      }
      expect(used).toBeGreaterThan(0);

      const before = rotated(values);
      const diffs = await dryRunDiffs(topology, files, values, before, dir);
      const shown = diffs.map((d) => d.diff).join("\n");
      // Every file holding a secret differs from the host's copy and says so.
      const withSecrets = [...files.values()].flat().filter((f) => secretsIn(f.text).length > 0);
      for (const f of withSecrets)
        expect(
          diffs.some((d) => d.host === f.host && d.path === f.path),
          `${f.host}:${f.path}`,
        ).toBe(true);
      expect(leaked(shown, values), "a current value in a diff").toEqual([]);
      expect(leaked(shown, before), "a value the hosts still hold in a diff").toEqual([]);
    },
  );

  // Negative control: the same search on the diff an unmasked engine would print finds the values,
  // so the assertions above can fail.
  it("the leak search finds values in an unmasked diff", async () => {
    const topology = topologies[0] as Topology;
    const dir = await mkdtemp(join(tmpdir(), "hastack-secrets-"));
    const values = await realSecrets(topology, dir);
    const before = rotated(values);
    const file = [...renderTopology(topology, services).files.values()]
      .flat()
      .find((f) => f.encoding !== "base64" && secretsIn(f.text).length > 0) as RenderedFile;
    const raw = unifiedDiff(fileBytes(file, before).toString(), fileBytes(file, values).toString(), "a", "b");
    expect(leaked(raw, values)).toEqual(secretsIn(file.text).filter((n) => (values[n] ?? "").length >= 6));
    expect(leaked(raw, before).length).toBeGreaterThan(0);
  });

  it("are declared once each, and files holding them are private", () => {
    const names = secretSpecs(services).map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of ["db_root", "rabbitmq_openstack", "erlang_cookie", "corosync_authkey", "galera_sst"])
      expect(names).toContain(name);
    for (const file of [...renderTopology(topologies[0] as Topology, services).files.values()].flat()) {
      // Certificates live in the secrets file beside their keys, but are public (the site CA's file).
      const secret = secretsIn(file.text).filter((n) => !PUBLIC_TLS_VALUES.includes(n));
      if (secret.length > 0) expect(file.mode & 0o007, file.path).toBe(0);
    }
  });
});
