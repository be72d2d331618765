#!/usr/bin/env bash
# Reads the log of `npm test` ($1) and prints the one closing line CI reads:
# "N passed, N failed, N skipped", bare: with a "tests:" label in front, CI recorded the runs of
# sessions 4-7 as having run no test. Vitest prints one "Tests" line per project (unit, e2e);
# they are added up. Exits 1 when no test ran at all. .ci/run calls it;
# src/testing/ci-summary.test.ts runs it on logs like vitest's.
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
echo "$passed passed, $failed failed, $skipped skipped"
