/**
 * What goes into the lab image. Everything here feeds the image cache key, so changing a list
 * rebuilds the image on the next `lab up`.
 */

export const SUITE = "trixie";
export const MIRROR = "http://deb.debian.org/debian";

/** Bump when the build steps in image.ts change in a way the lists below do not show. */
export const RECIPE_VERSION = "1";

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

export const HA_PACKAGES = [
  "pacemaker",
  // Only a Recommends of pacemaker, but pcs fails without cibadmin/crm_mon.
  "pacemaker-cli-utils",
  "corosync",
  "pcs",
  "fence-agents",
  "fence-agents-ipmilan",
  "resource-agents",
  "haproxy",
  "keepalived",
  "mariadb-server",
  "galera-4",
  "mariadb-backup",
  "rabbitmq-server",
  "memcached",
  "etcd-server",
  "etcd-client",
];

export const OPENSTACK_PACKAGES = [
  "keystone",
  "glance",
  "placement-api",
  "nova-api",
  "nova-conductor",
  "nova-scheduler",
  "nova-novncproxy",
  "nova-compute",
  "neutron-server",
  "neutron-plugin-ml2",
  "neutron-linuxbridge-agent",
  "neutron-openvswitch-agent",
  "neutron-dhcp-agent",
  "neutron-l3-agent",
  "neutron-metadata-agent",
  "cinder-api",
  "cinder-scheduler",
  "cinder-volume",
  "openstack-dashboard",
  "python3-openstackclient",
];

export const CEPH_PACKAGES = ["ceph-mon", "ceph-osd", "ceph-mgr"];

export const PACKAGES = [...BASE_PACKAGES, ...HA_PACKAGES, ...OPENSTACK_PACKAGES, ...CEPH_PACKAGES];

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

/** Services hastack's deploy enables itself: disabled, not masked, so `systemctl enable` is enough. */
export const DEPLOY_MANAGED = [
  "pacemaker.service",
  "corosync.service",
  "pcsd.service",
  "pcsd-ruby.service",
  "haproxy.service",
  "keepalived.service",
  "mariadb.service",
  "rabbitmq-server.service",
  "epmd.service",
  "epmd.socket",
  "memcached.service",
  "etcd.service",
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
