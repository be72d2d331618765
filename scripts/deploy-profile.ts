// Where a deploy's time went: `node scripts/deploy-profile.ts <journal.jsonl> [top]`, e.g. the
// newest of <inventory dir>/.hastack/runs/. Prints busy time per host, the critical path and the
// slowest steps (src/deploy/profile.ts says how the path is found).
import { formatProfile, readProfile } from "../src/deploy/profile.ts";

const [path, top] = process.argv.slice(2);
if (!path) {
  process.stderr.write("usage: node scripts/deploy-profile.ts <journal.jsonl> [top]\n");
  process.exit(2);
}
process.stdout.write(formatProfile(readProfile(path), top ? Number(top) : undefined));
