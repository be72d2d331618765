#!/bin/sh
# Chassis control for one lab host's virtual BMC: ipmi_sim runs this as its chassis_control
# program ("HOSTDIR get power", "HOSTDIR set power 0", ...). It answers "<parm>:<value>" lines.
#
# HOSTDIR holds: cgroup (the host's unified cgroup path), links (the host's veths on the lab's
# bridges) and power-on (starts host-runner.sh).
set -u
dir=$1 op=$2
shift 2
cg=$(cat "$dir/cgroup")

# cgroupfs files always have size 0, so test their content, not [ -s ].
is_on() {
  cat "$cg/cgroup.procs" "$cg/supervisor/cgroup.procs" "$cg/payload/cgroup.procs" 2>/dev/null | grep -q .
}

# A pulled plug: the host's links go first, then every process of the host, the runner and
# nspawn included, dies at once. Killing alone is not a pulled plug: the host's kernel outlives
# its processes for a moment and closes their sockets, so peers got a FIN, then "connection
# refused" on reconnect, and learned of the death at once (a Ceph OSD was marked down in 2 s
# instead of its heartbeat grace). A dead host sends nothing. The links are deleted, not set
# down: sockets that cannot send their FIN linger and keep the dead host's namespace, and with
# it a downed veth's name, alive for a minute, and the next power-on would find "File exists".
power_off() {
  cut_links
  [ -e "$cg/cgroup.kill" ] && echo 1 >"$cg/cgroup.kill"
  tries=0
  while is_on && [ "$tries" -lt 50 ]; do
    tries=$((tries + 1))
    sleep 0.02
  done
}

cut_links() {
  [ -r "$dir/links" ] || return 0
  for veth in $(cat "$dir/links"); do ip link del dev "$veth" 2>/dev/null; done
  return 0
}

power_on() {
  is_on && return 0
  setsid "$dir/power-on" </dev/null >/dev/null 2>&1 &
}

# ACPI soft-off: nspawn turns SIGTERM into an orderly shutdown of the container.
shutdown_host() {
  for pid in $(cat "$cg/supervisor/cgroup.procs" 2>/dev/null); do kill -TERM "$pid"; done
}

case $op in
get)
  for parm in "$@"; do
    case $parm in
    power) if is_on; then echo "power:1"; else echo "power:0"; fi ;;
    boot) echo "boot:default" ;;
    *) echo "unknown parameter $parm"; exit 1 ;;
    esac
  done
  ;;
set)
  while [ $# -ge 2 ]; do
    case $1 in
    power) if [ "$2" = 1 ]; then power_on; else power_off; fi ;;
    reset) power_off; power_on ;;
    shutdown) shutdown_host ;;
    boot) ;;
    *) echo "unknown parameter $1"; exit 1 ;;
    esac
    shift 2
  done
  ;;
*)
  echo "unknown operation $op"
  exit 1
  ;;
esac
