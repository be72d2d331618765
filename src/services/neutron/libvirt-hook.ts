/**
 * @module
 * A libvirt hook that brings guests' taps up, for the userspace datapath only. Found on the lab:
 * os-vif adds the tap's port to br-int before libvirt creates the tap; when the tap appears,
 * ovs-vswitchd (userspace datapath) opens it and sets IFF_PROMISC with a read-modify-write of its
 * flags, racing libvirt's IFF_UP. In one of two boots the tap stayed down (flags PROMISC without
 * UP, OVS: "error receiving ... Network is down"), the guest got no DHCP answer and the server
 * was ACTIVE but unreachable; `ip link set TAP up` by hand made it answer at once. libvirt runs
 * the hook after QEMU has started, when both have done their part.
 */
import type { FileSpec } from "../types.ts";

export const LIBVIRT_QEMU_HOOK = "/etc/libvirt/hooks/qemu";

export function libvirtTapHook(): FileSpec {
  const script = [
    "#!/bin/sh",
    "# Written by hastack (neutron, userspace datapath): bring the guest's taps up once QEMU runs,",
    "# as ovs-vswitchd's PROMISC flag write can undo libvirt's UP. Args: domain, operation, phase;",
    "# the domain's XML on stdin. Never fails the operation: a hook's non-zero exit would.",
    '[ "$2" = started ] || exit 0',
    "sed -n \"s/.*<target dev='\\(tap[^']*\\)'.*/\\1/p\" | while read -r tap; do",
    '  ip link set dev "$tap" up || true',
    "done",
    "exit 0",
    "",
  ].join("\n");
  return {
    path: LIBVIRT_QEMU_HOOK,
    owner: "root",
    group: "root",
    mode: 0o755,
    content: script,
    // libvirtd looks for hook scripts when it starts.
    onChange: { restart: ["libvirtd"] },
  };
}
