import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { maskSecrets } from "../inventory/secrets.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { fileBytes } from "../services/materialize.ts";
import { services } from "../services/registry.ts";
import { renderTopology } from "../services/render.ts";
import { inventoryOption, jsonOption, loadForHosts, printJson } from "./options.ts";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("write every host's config files to a directory, with a manifest of owner and mode")
    .addOption(inventoryOption())
    .requiredOption("-o, --out <dir>", "output directory (created with mode 0700: it holds secrets)")
    .option("--host <name...>", "only these hosts")
    .option("--masked", "write <secret:NAME> instead of secret values (no secrets file needed)")
    .addOption(jsonOption())
    .action(
      async (opts: { inventory: string; out: string; host?: string[]; masked?: boolean; json?: boolean }) => {
        const topology = await loadForHosts(opts.inventory, opts.host);
        const { files } = renderTopology(topology, services, opts.host);
        const secrets = opts.masked ? {} : await readSecrets(topology.secretsFile);
        const out = resolve(opts.out);
        await mkdir(out, { recursive: true, mode: 0o700 });
        const summary: { host: string; files: number; bytes: number }[] = [];
        for (const [host, list] of files) {
          const manifest = [];
          let bytes = 0;
          await mkdir(join(out, host), { recursive: true, mode: 0o700 });
          for (const file of list) {
            const data = opts.masked ? Buffer.from(maskSecrets(file.text)) : fileBytes(file, secrets);
            const target = join(out, host, file.path);
            await mkdir(dirname(target), { recursive: true, mode: 0o700 });
            await writeFile(target, data, { mode: 0o600 });
            bytes += data.length;
            manifest.push({
              path: file.path,
              owner: file.owner,
              group: file.group,
              mode: file.mode.toString(8).padStart(4, "0"),
              service: file.service,
              bytes: data.length,
              // Hash of the masked text: comparable across runs without revealing a secret.
              sha256: createHash("sha256").update(maskSecrets(file.text)).digest("hex"),
            });
          }
          await writeFile(join(out, host, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`, {
            mode: 0o600,
          });
          summary.push({ host, files: list.length, bytes });
        }
        if (opts.json) {
          printJson({ out, hosts: summary });
          return;
        }
        for (const s of summary) process.stdout.write(`${s.host}: ${s.files} files, ${s.bytes} bytes\n`);
        process.stdout.write(`written to ${out}\n`);
      },
    );
}
