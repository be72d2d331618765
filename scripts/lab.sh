#!/usr/bin/env bash
# npm run lab: bring up the hastack lab on this machine (Debian, as root).
# Installs what the machine lacks, builds or reuses the lab image, starts the lab, shows it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "npm run lab needs root (network namespaces, mounts, cgroups): run it with sudo" >&2
  exit 1
fi

# Debian and npm packages this machine lacks (the same bootstrap `npm test` runs).
bash scripts/bootstrap.sh

# The Node.js 24 runtime pinned in package.json (npm run puts node_modules/.bin first on PATH).
node=node_modules/.bin/node
[ -x "$node" ] || node=node

"$node" src/cli/main.ts lab up --cloud "$@"
"$node" src/cli/main.ts lab status

# The whole cloud on the lab: secrets (BMC passwords came with `lab up`; the site CA and the
# public VIP's certificate are made here), deploy, the guest image and flavor, a smoke test as a
# tenant with the real openstack client over TLS, then health.
# known_hosts is pinned by `lab up`, so deploy needs no --trust-new-host-keys.
inventory=${HASTACK_LAB_DIR:-/var/lib/hastack/lab}/inventory.yaml
"$node" src/cli/main.ts secrets init -i "$inventory"
"$node" src/cli/main.ts deploy -i "$inventory" --quiet
"$node" src/cli/main.ts lab guest-image -i "$inventory"
"$node" src/cli/main.ts smoke -i "$inventory"
"$node" src/cli/main.ts status -i "$inventory"
"$node" src/cli/main.ts lab status
echo "openrc files (with the site CA): $(dirname "$inventory")/admin-openrc.sh, demo-openrc.sh"
