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
  socat               # hostkit's TCP client, tested against local servers
  ca-certificates
  openssl             # secrets init: the site CA and the public VIP's certificate (tls.public: site-ca)
  stress-ng           # npm run bench:lab: the bounded CPU load of the busy runs
  qemu-system-x86     # boots the guest image under TCG in its test (never KVM here)
  genisoimage         # the guest image test's config drive, made as Nova makes one
  cpio                # reads back the guest's initramfs in its test
  fdisk               # sfdisk reads back the guest disk's partition table in its test
  python3-aiosmtpd    # a real SMTP server for the instance-HA alert mail tests
  gcc                 # builds the engine's native heartbeat receiver (src/instance-ha/native/),
  libc6-dev           # shipped to the controllers as a binary: they get no compiler
  libssl-dev          # its HMAC-SHA256 is libcrypto's
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

# npm runs on the pinned Node.js 24, never on an older system Node: under Node 20 npm warns
# (EBADENGINE) about every package that needs 22+. So the pinned `node` package goes into a
# scratch prefix first, then `npm ci` installs exactly the lock file (it never rewrites it).
# The lock lists every platform's optional Biome binary (as `npm install` writes it); npm skips
# the ones for other platforms, so their absence from the registry here does not matter.
if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/vitest ]; then
  node_version=$(sed -n '/"node_modules\/node": {/,/}/s/.*"version": "\([^"]*\)".*/\1/p' package-lock.json | head -1)
  if [ -z "$node_version" ]; then
    echo "package-lock.json pins no node package" >&2
    exit 1
  fi
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  printf '{"private":true,"allowScripts":{"node":true}}\n' >"$scratch/package.json"
  (cd "$scratch" && npm install --no-fund --no-audit --no-package-lock "node@$node_version" >/dev/null)
  PATH="$scratch/node_modules/.bin:$PATH" npm ci --no-fund --no-audit
fi
