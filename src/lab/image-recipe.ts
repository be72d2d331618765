/**
 * What goes into the lab image beyond the services' components (src/lab/image-contents.ts derives
 * those). Everything here feeds the image cache key, so changing a list rebuilds the image on the
 * next `lab up`.
 */

export const SUITE = "trixie";
export const MIRROR = "http://deb.debian.org/debian";

/** Bump when the build steps in image.ts change in a way the lists below do not show. */
export const RECIPE_VERSION = "2";

export const BASE_PACKAGES = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "libpam-systemd",
  "openssh-server",
  "openssh-client",
  "chrony",
  "iproute2",
  "iputils-ping",
  // iputils-arping, not arping: neutron-l3-agent depends on it and the two conflict.
  "iputils-arping",
  "tcpdump",
  "procps",
  "curl",
  "python3",
  "netbase",
  "ca-certificates",
  "less",
  "rsync",
  "sudo",
  "nftables",
  "socat",
  "ipmitool",
];

// Every other package comes from the services' components (src/lab/image-contents.ts).

/**
 * Enabled units a lab host keeps: what it needs to boot and be reached. Every other enabled unit
 * is disabled (when hastack deploys it) or masked, so a fresh host boots idle: the full image
 * with everything enabled needs 4.4 GiB per host and never finishes booting.
 */
export const KEEP_ENABLED = [
  /\.target$/,
  /^systemd-/,
  /^dbus/,
  /^ssh\.(service|socket)$/,
  /^sshd\.service$/,
  /^chrony\.service$/,
  /^getty@/,
  /^console-getty/,
  /^container-getty/,
];

/** Masked even when not enabled: socket, timer or D-Bus activation could start them by accident. */
export const ALWAYS_MASK = [
  "libvirtd.service",
  "libvirtd.socket",
  "libvirtd-ro.socket",
  "libvirtd-admin.socket",
  "libvirt-guests.service",
  "virtlockd.socket",
  "virtlockd-admin.socket",
  "virtlogd.socket",
  "virtlogd-admin.socket",
  "iscsid.socket",
  "iscsid.service",
  "open-iscsi.service",
  "apache2.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "dpkg-db-backup.timer",
  "man-db.timer",
  "logrotate.timer",
];
