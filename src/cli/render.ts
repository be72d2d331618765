import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { maskSecrets } from "../inventory/secrets.ts";
import { readSecrets } from "../inventory/secrets-file.ts";
import { lastPerPath } from "../services/last-per-path.ts";
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
        const { topology, render } = await loadForHosts(opts.inventory, opts.host);
        // Validation rendered every host: render again only for some of them.
        const { files } = opts.host ? renderTopology(topology, services, opts.host) : render;
        const secrets = opts.masked ? {} : await readSecrets(topology.secretsFile);
        const out = resolve(opts.out);
        // Synchronous writes: nothing else runs meanwhile, and a thread-pool round trip per file
        // cost 7 s of system time for the 60,000 files of 5,000 computes.
        mkdirSync(out, { recursive: true, mode: 0o700 });
        const summary: { host: string; files: number; bytes: number }[] = [];
        const encode = lastPerPath((file) => ({
          data: opts.masked ? Buffer.from(maskSecrets(file.text)) : fileBytes(file, secrets),
          // Hash of the masked text: comparable across runs without revealing a secret.
          sha256: createHash("sha256").update(maskSecrets(file.text)).digest("hex"),
        }));
        const made = new Set<string>();
        for (const [host, list] of files) {
          const manifest = [];
          let bytes = 0;
          mkdirSync(join(out, host), { recursive: true, mode: 0o700 });
          for (const file of list) {
            const { data, sha256 } = encode(file);
            const target = join(out, host, file.path);
            // One mkdir per directory, not per file: 60,000 fewer calls for 5,000 computes.
            if (!made.has(dirname(target))) mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
            made.add(dirname(target));
            writeFileSync(target, data, { mode: 0o600 });
            bytes += data.length;
            manifest.push({
              path: file.path,
              owner: file.owner,
              group: file.group,
              mode: file.mode.toString(8).padStart(4, "0"),
              service: file.service,
              bytes: data.length,
              sha256,
            });
          }
          writeFileSync(join(out, host, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`, {
            mode: 0o600,
          });
          summary.push({ host, files: list.length, bytes });
        }
        if (opts.json) {
          printJson({ out, hosts: summary });
          return;
        }
        // One write, not one per host (5,000 for 5,000 computes).
        const lines = summary.map((s) => `${s.host}: ${s.files} files, ${s.bytes} bytes\n`);
        process.stdout.write(`${lines.join("")}written to ${out}\n`);
      },
    );
}
