#!/bin/sh
# Powers one lab host. The host's virtual BMC (ipmi_sim) runs this as its startcmd: "power on"
# starts it, "power off" sends it SIGTERM, and the BMC reports "on" exactly while it runs.
# SIGTERM pulls the plug: every process of the container dies at once (payload/cgroup.kill);
# killing only systemd-nspawn would leave the container running (an orphan on the bridges).
#
# usage: host-runner.sh CGROUP NAMED_CGROUP|- LOG VETH:BRIDGE[,VETH:BRIDGE...] -- NSPAWN_ARGS...
set -u
cg=$1 named=$2 log=$3 links=$4
shift 5
for dir in "$cg" "$named"; do
  [ "$dir" = - ] && continue
  mkdir -p "$dir" && echo $$ >"$dir/cgroup.procs" || exit 1
done

pid=
pull() {
  # Links gone before the kill: the dying host's kernel would otherwise close its sockets with a
  # FIN to every peer, which a pulled plug never sends (see bmc-chassis.sh).
  for pair in $(echo "$links" | tr , ' '); do ip link del dev "${pair%%:*}" 2>/dev/null; done
  if [ -w "$cg/payload/cgroup.kill" ]; then
    echo 1 >"$cg/payload/cgroup.kill"
  elif [ -n "$pid" ]; then
    # Too early for a payload cgroup: the container has no init yet, so nspawn is all there is.
    kill -KILL "$pid" 2>/dev/null
  fi
}
trap pull TERM INT HUP

# After a power pull the old container's veths vanish with its namespace, a moment later; a
# new nspawn would fail with "File exists" if it started before that.
for pair in $(echo "$links" | tr , ' '); do
  veth=${pair%%:*} tries=0
  while ip link show "$veth" >/dev/null 2>&1 && [ "$tries" -lt 100 ]; do
    tries=$((tries + 1))
    sleep 0.05
  done
done

# A pulled plug leaves the old boot's cgroups behind (empty: nobody was left to remove them). The
# next boot's systemd finds them, and its early oneshot units (tmpfiles-setup, sysctl...) die
# with SIGKILL: /run then lacks /run/mysqld and /run/haproxy. Remove them, deepest first.
for dir in "$cg" "$named"; do
  [ "$dir" = - ] && continue
  find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
done

echo "=== power on $(date -Is)" >>"$log"
systemd-nspawn "$@" >>"$log" 2>&1 </dev/null &
pid=$!

# nspawn creates the host-side veths in this (the lab's) namespace; plug them into the bridges.
for pair in $(echo "$links" | tr , ' '); do
  veth=${pair%%:*} bridge=${pair#*:} tries=0
  until ip link set "$veth" master "$bridge" up 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -gt 400 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
done

# wait returns early when a trapped signal arrives; keep waiting until nspawn is really gone.
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done
echo "=== power off $(date -Is)" >>"$log"
