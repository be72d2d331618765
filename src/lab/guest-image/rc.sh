#!/bin/busybox sh
# The hastack guest's boot, run once by busybox init: the NIC by DHCP, the instance's identity
# from a config drive or the metadata service, a marker line on the serial console, and an HTTP
# answer on port 80 (the kernel answers ping). Every line starts with "hastack-guest:" so tests
# and `openstack console log show` can find it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run /tmp /mnt /www

say() { echo "hastack-guest: $*" >/dev/console; }

while read -r module; do
  [ -n "$module" ] || continue
  insmod "/lib/modules/$module" || say "cannot load $module"
done </etc/modules

# The NIC's driver probes asynchronously: wait a little for its interface.
nic=""
tries=0
while [ -z "$nic" ] && [ "$tries" -lt 20 ]; do
  for path in /sys/class/net/*; do
    name=${path##*/}
    if [ "$name" != lo ]; then
      nic=$name
      break
    fi
  done
  [ -n "$nic" ] && break
  tries=$((tries + 1))
  sleep 1
done
ip link set lo up

if [ -n "$nic" ]; then
  ip link set "$nic" up
  # -b: without a lease after 10 tries, keep asking in the background and boot on. -O: OVN's
  # DHCP sends the MTU (Geneve overhead) and a route to the metadata address.
  udhcpc -i "$nic" -s /etc/udhcpc.sh -t 10 -T 2 -A 3 -b -O mtu -O staticroutes
else
  say "no network interface"
fi
address=$(cat /run/address 2>/dev/null)

# Nova's config drive is a file system labelled config-2 (iso9660 on a CD-ROM, or vfat);
# findfs reads labels (Debian's busybox has no blkid).
from_config_drive() {
  dev=$(findfs LABEL=config-2 2>/dev/null) || return 1
  mount -o ro "$dev" /mnt 2>/dev/null || return 1
  cp /mnt/openstack/latest/meta_data.json /run/meta_data.json 2>/dev/null
  cp /mnt/openstack/latest/user_data /run/user_data 2>/dev/null
  umount /mnt
  [ -s /run/meta_data.json ]
}

# The metadata service may answer late (the OVN metadata proxy starts with the port): retry.
from_metadata_service() {
  [ -n "$address" ] || return 1
  base=http://169.254.169.254/openstack/latest
  tries=0
  while [ "$tries" -lt 10 ]; do
    if wget -q -T 5 -O /run/meta_data.json "$base/meta_data.json"; then
      wget -q -T 5 -O /run/user_data "$base/user_data" || rm -f /run/user_data
      return 0
    fi
    tries=$((tries + 1))
    sleep 2
  done
  rm -f /run/meta_data.json
  return 1
}

# One JSON string field of meta_data.json; uuid and hostname occur once at its top level.
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" /run/meta_data.json | head -n 1; }

source=none
if from_config_drive; then
  source=config-drive
elif from_metadata_service; then
  source=metadata
fi
uuid=""
host=""
if [ "$source" != none ]; then
  uuid=$(field uuid)
  host=$(field hostname)
fi
[ -n "$host" ] && hostname "$host"

echo "hastack-guest ${uuid:-unknown} ${host:-unknown}" >/www/index.html
httpd -p 80 -h /www

say "ready uuid=${uuid:-none} hostname=${host:-none} address=${address:-none} source=$source"

# Tests (and a user) can ask the guest to stop by itself: a user-data line
# "hastack-guest-poweroff-after: SECONDS".
after=""
[ -s /run/user_data ] && after=$(sed -n 's/^hastack-guest-poweroff-after: *\([0-9][0-9]*\) *$/\1/p' /run/user_data | head -n 1)
if [ -n "$after" ]; then
  (
    sleep "$after"
    say "powering off: user-data asked for it after $after s"
    poweroff -f
  ) &
fi

# Tests that a disk survives (an evacuation keeps the instance's disk on shared storage) ask for
# a marker: a user-data line "hastack-guest-disk-marker: TOKEN". The first boot writes it to the
# gap between the MBR and the partition (sector 1024, unused by the MBR code and by ext2) and
# syncs; every later boot from the same disk finds it there and says so.
token=""
[ -s /run/user_data ] && token=$(sed -n 's/^hastack-guest-disk-marker: *\([A-Za-z0-9._-][A-Za-z0-9._-]*\) *$/\1/p' /run/user_data | head -n 1)
if [ -n "$token" ]; then
  disk=""
  for d in /dev/vda /dev/sda; do [ -b "$d" ] && disk=$d && break; done
  if [ -z "$disk" ]; then
    say "disk marker: no disk"
  else
    found=$(dd if="$disk" bs=512 skip=1024 count=1 2>/dev/null | tr -d '\000' | sed -n 's/^hastack-marker:\([A-Za-z0-9._-]*\)$/\1/p' | head -n 1)
    if [ -n "$found" ]; then
      say "disk marker found: $found"
    else
      printf 'hastack-marker:%s\n' "$token" | dd of="$disk" bs=512 seek=1024 count=1 conv=notrunc,sync 2>/dev/null
      sync
      say "disk marker written: $token"
    fi
  fi
fi
