#!/usr/bin/env bash
# Makes this machine ready for `npm test` and `npm run lab`: the Debian packages they need and
# the npm packages (with the pinned Node.js 24). Idempotent and quick when nothing is missing:
# only what is missing is installed, and `apt-get update` runs once, only when something is.
# npm runs it before `npm test` (pretest), so the README's commands work on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "hastack's tests and lab need root (network namespaces, mounts, cgroups, apt)" >&2
  exit 1
fi
packages=(
  systemd-container   # systemd-nspawn: lab hosts, and running the real tools from the image
  mmdebstrap          # builds the Debian 13 image
  uidmap
  openipmi            # ipmi_sim: the virtual BMCs
  ipmitool
  iproute2
  iptables
  util-linux          # nsenter, flock
  iputils-ping
  debian-archive-keyring  # mmdebstrap verifies the Debian mirror with it
  openssh-server      # a real sshd on loopback for transport tests
  openssh-client
  sudo                # the transport's sudo path is tested as root
  ca-certificates
  stress-ng           # npm run bench:lab: the bounded CPU load of the busy runs
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Not `npm ci`: the registry reachable here has no Biome binaries for other platforms, so the
# lock file cannot list them and `npm ci` refuses it. `npm install` keeps the locked versions.
if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/vitest ]; then
  npm install --no-fund --no-audit
fi
