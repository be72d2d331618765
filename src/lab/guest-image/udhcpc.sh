#!/bin/busybox sh
# udhcpc's event script: applies a lease (address, MTU, routes, DNS) and says so on the console
# (udhcpc's own output goes nowhere once it runs in the background).
case "$1" in
deconfig)
  ip -4 addr flush dev "$interface"
  ip link set "$interface" up
  ;;
bound | renew)
  [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
  ip -4 addr flush dev "$interface"
  ip addr add "$ip/${mask:-24}" dev "$interface"
  # RFC 3442: with classless static routes, the router option is ignored.
  if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then
        ip route add "$1" dev "$interface"
      else
        ip route add "$1" via "$2" dev "$interface"
      fi
      shift 2
    done
  elif [ -n "$router" ]; then
    for r in $router; do
      ip route add default via "$r" dev "$interface" && break
    done
  fi
  : >/etc/resolv.conf
  for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
  echo "$ip" >/run/address
  echo "hastack-guest: lease $ip/${mask:-24} on $interface router ${router:-none} mtu ${mtu:-default}" >/dev/console
  ;;
esac
exit 0
