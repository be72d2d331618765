/**
 * @module
 * What Neutron needs when Pacemaker fences a controller. neutron-server hands each OVN event to
 * one worker of one server through a hash ring kept in its database, counts a worker alive for
 * 120 s after its last heartbeat and re-reads the ring every 60 s (`HASH_RING_NODES_TIMEOUT`,
 * `HASH_RING_CACHE_TIMEOUT` in neutron/common/ovn/constants.py of 2025.1: constants, not
 * options). A controller that lost power cannot remove its own workers (a server that stops
 * does), so for 2-3 minutes the events hashed to them, about a third, are handled by nobody: a
 * port that goes up then stays DOWN in Neutron, Nova never gets `network-vif-plugged`, and the
 * server is stuck in BUILD until Nova gives up (measured: controller-poweroff-under-load runs 10
 * and 12, docs/tuning.md). Nothing in Neutron reconciles a port's status afterwards.
 *
 * So a Pacemaker alert agent, run on every surviving controller for a successful fence, drops
 * the fenced host's rows from `ovn_hash_ring` at once (the survivors then re-read a ring without
 * it within 60 s), and one survivor sweeps for 4 minutes: a VM's port that OVN has up while
 * Neutron has it DOWN on two passes in a row is re-announced by turning its
 * `Logical_Switch_Port.enabled` off and on, which Neutron's own "port up" event handles like a
 * port coming up (ovsdb_monitor.LogicalSwitchPortUpdateUpEvent). Neutron's database is not
 * touched for that. Pacemaker runs alert agents as `hacluster`; the work needs root (the
 * database over its socket, OVN's northbound database), hence one sudo rule for one program that
 * checks its only argument.
 */
import type { FileSpec, PacemakerContribution } from "../types.ts";

export const FENCE_ALERT = "/usr/local/lib/hastack/neutron-fence-alert";
export const FENCED_PROGRAM = "/usr/local/lib/hastack/neutron-fenced";
export const FENCED_SUDOERS = "/etc/sudoers.d/hastack-neutron-fenced";
/** How long the sweep looks for stuck ports: the survivors' rings are fresh 60 s after the drop. */
export const SWEEP_S = 240;
/** Between passes; a port is re-announced when it was stuck on two passes in a row. */
export const SWEEP_EVERY_S = 10;

/** The alert agent every controller runs (as hacluster) for every fencing event. */
export function fenceAlertScript(): string {
  return [
    "#!/bin/sh",
    "# Written by hastack (neutron). Pacemaker runs it as hacluster for every fencing event;",
    "# a controller that was powered off or rebooted hands the event to neutron-fenced (root).",
    "# Pacemaker 3.0 passes the notification (st_notify_fence), not the action, as the task; the",
    '# action is in the description: "Operation reboot of ctl2 by ctl1 for ...: OK (ref=...)".',
    '[ "$CRM_alert_kind" = fencing ] && [ "$CRM_alert_task" = st_notify_fence ] || exit 0',
    '[ "$CRM_alert_rc" = 0 ] || exit 0',
    'case "$CRM_alert_desc" in',
    '  "Operation reboot of $CRM_alert_node by "*": OK"*|"Operation off of $CRM_alert_node by "*": OK"*) ;;',
    "  *) exit 0 ;;",
    "esac",
    `exec sudo -n ${FENCED_PROGRAM} "$CRM_alert_node"`,
    "",
  ].join("\n");
}

/** Root's part: drop the fenced host's hash ring rows, then (one survivor) the sweep. */
export function fencedProgram(timing = { sweepS: SWEEP_S, everyS: SWEEP_EVERY_S }): string {
  const stuckSql = [
    "SELECT p.id FROM ports p JOIN ml2_port_bindings b ON b.port_id = p.id AND b.status = 'ACTIVE'",
    "WHERE p.status = 'DOWN' AND p.admin_state_up = 1 AND p.device_owner LIKE 'compute:%' AND b.host <> ''",
  ].join(" ");
  return [
    "#!/bin/bash",
    "# Written by hastack (neutron); why: src/services/neutron/fence-hook.ts.",
    `# ${FENCED_PROGRAM} NODE: NODE was fenced; drop its workers from Neutron's OVN hash ring and`,
    "# start the sweep on one survivor. --sweep NODE: re-announce the ports OVN has up and Neutron",
    `# has DOWN, every ${timing.everyS} s for ${timing.sweepS} s.`,
    "set -u",
    'log() { logger -t hastack-neutron-fenced -- "$*"; echo "$*"; }',
    'nb() { ovn-nbctl --no-leader-only --timeout=10 "$@"; }',
    'sql() { mariadb --batch --skip-column-names neutron -e "$1"; }',
    "sweep=0",
    'if [ $# -gt 0 ] && [ "$1" = --sweep ]; then sweep=1; shift; fi',
    'node=""',
    'if [ $# -gt 0 ]; then node="$1"; fi',
    "# The only argument goes into SQL and a unit name: a host name or nothing.",
    'if ! [[ "$node" =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$ ]]; then',
    `  echo "usage: ${FENCED_PROGRAM} [--sweep] NODE (a host name)" >&2`,
    "  exit 2",
    "fi",
    'if [ "$sweep" = 0 ]; then',
    `  if ! gone=$(sql "DELETE FROM ovn_hash_ring WHERE hostname = '$node'; SELECT ROW_COUNT();" 2>&1); then`,
    '    log "Cannot drop fenced $node from Neutron\'s OVN hash ring: $gone"',
    "    exit 1",
    "  fi",
    '  if [ "$gone" = 0 ]; then log "$node was fenced: none of its workers left in Neutron\'s OVN hash ring"',
    '  else log "$node was fenced: dropped its $gone worker(s) from Neutron\'s OVN hash ring"; fi',
    "  # Every survivor runs the alert; the first member of this partition by name sweeps.",
    "  first=$(crm_node -p | tr ' ' '\\n' | sed '/^$/d' | sort | head -n 1)",
    '  [ -n "$first" ] && [ "$first" = "$(crm_node -n)" ] || exit 0',
    "  # Its own unit: Pacemaker kills an alert agent that runs past its timeout.",
    `  systemd-run --quiet --collect --unit="hastack-neutron-sweep-$node" ${FENCED_PROGRAM} --sweep "$node" ||`,
    '    log "No sweep for the ports after $node\'s fence: systemd-run failed (one may run already)"',
    "  exit 0",
    "fi",
    'prev=""',
    `end=$(( $(date +%s) + ${timing.sweepS} ))`,
    'while [ "$(date +%s)" -lt "$end" ]; do',
    `  down=$(sql "${stuckSql}" | sort) || down=""`,
    "  up=$(nb --bare --columns=name find Logical_Switch_Port up=true | sed '/^$/d' | sort) || up=\"\"",
    "  now=$(comm -12 <(printf '%s\\n' \"$down\") <(printf '%s\\n' \"$up\") | sed '/^$/d')",
    "  # Seen on two passes: a port that has just gone up is normally reported within one.",
    "  for port in $(comm -12 <(printf '%s\\n' \"$now\") <(printf '%s\\n' \"$prev\") | sed '/^$/d'); do",
    "    # Two transactions a second apart, so that Neutron sees enabled go false, then true.",
    '    if nb lsp-set-enabled "$port" disabled && sleep 1 && nb lsp-set-enabled "$port" enabled; then',
    '      log "Port $port is up in OVN and was DOWN in Neutron for ' +
      `${timing.everyS} s after $node's fence: re-announced it"`,
    "    else",
    '      nb lsp-set-enabled "$port" enabled',
    '      log "Cannot re-announce port $port after $node\'s fence: ovn-nbctl failed"',
    "    fi",
    "  done",
    '  prev="$now"',
    `  sleep ${timing.everyS}`,
    "done",
    "",
  ].join("\n");
}

export function fenceHookFiles(): FileSpec[] {
  return [
    { path: FENCE_ALERT, owner: "root", group: "root", mode: 0o755, content: fenceAlertScript() },
    { path: FENCED_PROGRAM, owner: "root", group: "root", mode: 0o755, content: fencedProgram() },
    {
      path: FENCED_SUDOERS,
      owner: "root",
      group: "root",
      mode: 0o440,
      content: [
        "# Written by hastack (neutron): the Pacemaker alert agent (run as hacluster) hands a",
        "# fenced controller to this one program, which checks its argument.",
        `hacluster ALL=(root) NOPASSWD: ${FENCED_PROGRAM}`,
        "",
      ].join("\n"),
    },
  ];
}

export function fenceHookPacemaker(): PacemakerContribution {
  return { alerts: [{ id: "neutron-fenced", path: FENCE_ALERT, select: ["fencing"], timeout_s: 30 }] };
}
