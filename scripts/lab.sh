#!/usr/bin/env bash
# npm run lab: bring up the hastack lab on this machine (Debian, as root).
# Installs what the machine lacks, builds or reuses the lab image, starts the lab, shows it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "npm run lab needs root (network namespaces, mounts, cgroups): run it with sudo" >&2
  exit 1
fi

# Program -> Debian package. Only missing ones are installed.
declare -A need=(
  [systemd-nspawn]=systemd-container
  [mmdebstrap]=mmdebstrap
  [ipmi_sim]=openipmi
  [ipmitool]=ipmitool
  [newuidmap]=uidmap
  [ip]=iproute2
  [bridge]=iproute2
  [nsenter]=util-linux
  [flock]=util-linux
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [ping]=iputils-ping
)
missing=()
for prog in "${!need[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || missing+=("${need[$prog]}")
done
# debian-archive-keyring lets mmdebstrap verify the Debian mirror.
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
if [ "${#missing[@]}" -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "installing: $pkgs" >&2
  apt-get update
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs
fi

[ -d node_modules ] || npm ci

# The Node.js 24 runtime pinned in package.json (npm run puts node_modules/.bin first on PATH).
node=node_modules/.bin/node
[ -x "$node" ] || node=node

"$node" src/cli/main.ts lab up "$@"
"$node" src/cli/main.ts lab status

# The base layer on the lab: secrets (BMC passwords came with `lab up`), deploy, health.
# known_hosts is pinned by `lab up`, so deploy needs no --trust-new-host-keys.
inventory=${HASTACK_LAB_DIR:-/var/lib/hastack/lab}/inventory.yaml
"$node" src/cli/main.ts secrets init -i "$inventory"
"$node" src/cli/main.ts deploy -i "$inventory" --quiet
"$node" src/cli/main.ts status -i "$inventory"
