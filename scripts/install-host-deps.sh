#!/usr/bin/env bash
# Debian packages this machine needs to build and run the lab and the tests. Idempotent: only
# what is missing is installed, and `apt-get update` runs once, only when something is.
set -euo pipefail
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
