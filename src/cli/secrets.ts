import { text } from "node:stream/consumers";
import type { Command } from "commander";
import { initSecrets, readSecrets, SECRET_NAME, setSecret } from "../inventory/secrets-file.ts";
import { ensureSiteTls, publicNames, TLS_SECRETS } from "../inventory/site-tls.ts";
import { services } from "../services/registry.ts";
import { providedSecrets, secretSpecs } from "../services/secret-specs.ts";
import { loadTopology } from "../topology/load.ts";
import { HastackError } from "../util/errors.ts";
import { inventoryOption, jsonOption, printJson } from "./options.ts";

export function registerSecrets(program: Command): void {
  const secrets = program
    .command("secrets")
    .description("generate and manage the secrets file (values are never printed)");

  secrets
    .command("init")
    .description("create the secrets file next to the inventory (mode 0600), or add the secrets it lacks")
    .addOption(inventoryOption())
    .option("--rotate <name>", "replace one generated secret with a new value")
    .addOption(jsonOption())
    .action(async (opts: { inventory: string; rotate?: string; json?: boolean }) => {
      const topology = await loadTopology(opts.inventory, services);
      const tlsRotate = opts.rotate && isTlsRotation(opts.rotate) ? opts.rotate : undefined;
      const result = await initSecrets(topology.secretsFile, secretSpecs(services), {
        ...(opts.rotate && !tlsRotate ? { rotate: opts.rotate } : {}),
        alsoRotatable: [TLS_SECRETS.caCert, TLS_SECRETS.cert],
      });
      // After the passwords: the file exists (0600) before any key is written into it.
      const tls = await ensureSiteTls(topology, tlsRotate ? { rotate: tlsRotate } : {});
      const values = await readSecrets(topology.secretsFile);
      const missing = providedSecrets(topology).filter((s) => values[s.name] === undefined);
      if (opts.json) {
        printJson({ ...result, tlsIssued: tls.issued, missingProvided: missing.map((m) => m.name) });
        return;
      }
      const verb = result.created ? "created" : "updated";
      process.stdout.write(
        `${result.path}: ${verb}; ${result.added.length} added, ${result.rotated.length} rotated, ` +
          `${Object.keys(values).length} in all\n`,
      );
      if (tls.issued.length > 0) {
        const names = publicNames(topology);
        process.stdout.write(
          `issued ${tls.issued.join(", ")} for ${[...names.ips, ...names.dns].join(", ")}` +
            `${tls.why ? ` (${tls.why})` : ""}: run \`hastack deploy\` to serve it\n`,
        );
      }
      if (result.rotated.length > 0) {
        process.stdout.write(
          `rotated ${result.rotated.join(", ")}: run \`hastack deploy\` to apply it everywhere\n`,
        );
      }
      for (const m of missing) {
        process.stdout.write(
          `still to provide: ${m.name} (${m.description}): hastack secrets set ${m.name} < file\n`,
        );
      }
    });

  secrets
    .command("list")
    .description("list secret names and whether each is set")
    .addOption(inventoryOption())
    .addOption(jsonOption())
    .action(async (opts: { inventory: string; json?: boolean }) => {
      const topology = await loadTopology(opts.inventory, services);
      const values = await readSecrets(topology.secretsFile).catch(() => ({}) as Record<string, string>);
      const rows = [
        ...secretSpecs(services).map((s) => ({
          name: s.name,
          kind: "generated",
          description: s.description,
        })),
        ...providedSecrets(topology).map((s) => ({
          name: s.name,
          kind: "provided",
          description: s.description,
        })),
      ].map((r) => ({ ...r, set: values[r.name] !== undefined }));
      if (opts.json) {
        printJson(rows);
        return;
      }
      for (const r of rows) {
        process.stdout.write(
          `${r.set ? "set    " : "MISSING"}  ${r.name.padEnd(28)} ${r.kind.padEnd(10)} ${r.description}\n`,
        );
      }
    });

  secrets
    .command("set <name>")
    .description("store a secret you provide (a BMC password...), read from standard input")
    .addOption(inventoryOption())
    .action(async (name: string, opts: { inventory: string }) => {
      const topology = await loadTopology(opts.inventory, services);
      if (!SECRET_NAME.test(name)) {
        throw new HastackError(
          "E_SECRET_NAME",
          `Cannot set '${name}': a secret name is a lowercase letter, then up to 63 lowercase letters, digits or '_'`,
        );
      }
      const known = [
        ...secretSpecs(services).map((s) => s.name),
        ...providedSecrets(topology).map((s) => s.name),
      ];
      if (!known.includes(name)) {
        // A typo stored under its own name would leave the real secret missing, silently.
        throw new HastackError(
          "E_SECRET_UNKNOWN",
          `Cannot set '${name}': it is neither a generated secret nor one the inventory asks for (${known.join(", ")})`,
          { hint: "a BMC or SMTP password is named by its password_secret in the inventory" },
        );
      }
      const value = (await text(process.stdin)).replace(/\r?\n$/, "");
      if (value.length === 0) {
        throw new HastackError("E_SECRET_EMPTY", `Cannot set ${name}: standard input was empty`, {
          hint: `printf %s "$VALUE" | hastack secrets set ${name}`,
        });
      }
      await setSecret(topology.secretsFile, name, value);
      process.stdout.write(`${name} stored in ${topology.secretsFile}\n`);
    });
}

/** `--rotate tls_ca_cert` (a new CA, then a new certificate) or `--rotate tls_public_cert`. */
function isTlsRotation(name: string): boolean {
  return name === TLS_SECRETS.caCert || name === TLS_SECRETS.cert;
}
