#!/usr/bin/env bash
# Reads the log of `npm test` ($1) and prints the one closing line CI reads:
# "tests: N passed, N failed, N skipped". Vitest prints one "Tests" line per project (unit, e2e);
# they are added up. Exits 1 when no test ran at all. .ci/run calls it; scripts/ci-summary.test.ts
# runs it on logs like vitest's.
set -euo pipefail
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^ +Tests +[0-9]' || true)
# grep finds no "N failed" when nothing failed and exits 1: under pipefail and set -e that alone
# once ended CI with exit 1, silently, after every test had passed.
count() { { grep -oE "[0-9]+ $1" <<<"$summary" || true; } | awk '{ n += $1 } END { print n + 0 }'; }
passed=$(count passed)
failed=$(count failed)
skipped=$(count skipped)
if [ "$passed" -eq 0 ]; then
  echo "ci: npm test ran no test" >&2
  exit 1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
