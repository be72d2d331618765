/**
 * @module
 * Every error code hastack raises, with what it means: one flat object, one line per code. To
 * add a code, append a line; `HastackError` and `Problem` accept nothing else. Names read
 * `E_<SUBJECT>_<WHAT>` (E_SECRETS_FILE_MODE, E_SSH_CONNECT); before adding one, look for an
 * existing code with the same meaning. docs/errors.md is generated from this file
 * (`npm run errors`); a test fails while it is stale, or when a code here is no longer raised.
 */
import type { ErrorCode as YamlErrorCode } from "yaml";
import type { z } from "zod";

export const errorCodes = {
  E_ADDRESS_OUTSIDE_NETWORK: "a host address is not a host address of its network's CIDR",
  E_BACKUP:
    "a step of `hastack backup run` failed on a host (canary, count, mariadb-backup, etcd snapshot, RabbitMQ definitions, keys, storing a part)",
  E_BACKUP_KEY:
    "the backup key file is missing, readable by others or malformed, or a backup's keys part does not decrypt with it (another key, or a changed part)",
  E_BACKUP_MANIFEST: "a stored backup manifest is not valid JSON, or not in the manifest's format",
  E_BACKUP_NO_SOURCE: "no controller can take, store or restore a backup (none Synced, none reachable)",
  E_BACKUP_NOT_FOUND: "no complete backup is stored, or none with the id given",
  E_BACKUP_RESTORE:
    "a step of `hastack backup restore` failed on a host (fetch, prepare, stop, set aside, move back, bootstrap, join, canary): the error names the state left",
  E_BACKUP_RESTORE_CONFIRM:
    "`hastack backup restore` was not given --yes: the plan was shown, nothing was changed",
  E_BACKUP_RESTORE_REFUSED:
    "a restore that cannot start safely (a controller unreachable, a datadir that is a mount point, another backup's restore unfinished): nothing was changed",
  E_BACKUP_SCHEDULE:
    "`hastack backup schedule` could not install its timer: an OnCalendar systemd refuses, units `systemd-analyze verify` refuses, or systemctl failed",
  E_BACKUP_VERIFY:
    "a step of `hastack backup verify` failed on a host (fetch, unpack, prepare, scratch server)",
  E_BMC_OUTSIDE_NETWORK: "a BMC address is outside the bmc network",
  E_CEPH: "a ceph, rbd or ceph-authtool command failed on a host",
  E_CEPH_MAINTENANCE:
    "a Ceph host cannot go into or come out of maintenance (refused as unsafe, or it did not converge)",
  E_CEPH_MGR_PATCH: "the ceph-mgr module fix (lazy bcrypt import) cannot be applied",
  E_CEPH_MON_CREATE: "a Ceph monitor's data directory cannot be created",
  E_CEPH_MONS: "the Ceph monitors cannot form a quorum (an even count)",
  E_CEPH_OSD_CREATE: "a Ceph OSD cannot be created or started",
  E_CEPH_OSD_HOST: "Ceph OSDs are listed for a host that is not a storage host, or a storage host has none",
  E_CEPH_PG_NUM: "a Ceph pool's PG count is not a power of two",
  E_CEPH_RATIOS: "the Ceph nearfull/backfillfull/full ratios are not in increasing order",
  E_CEPH_REPLACE:
    "a Ceph OSD cannot be replaced (refused as unsafe, the device is not the inventory's, or it did not converge)",
  E_CEPH_REPLICAS: "the Ceph replica size exceeds the failure domains, or min_size exceeds size",
  E_CEPH_RESTART:
    "Ceph daemons cannot be restarted for a changed ceph.conf (refused as unsafe, or the cluster did not converge)",
  E_CIB_BAD_ID: "a Pacemaker resource id is not a valid XML id",
  E_CIB_DUPLICATE_ID: "two Pacemaker resources or constraints have the same id",
  E_CIB_MISSING: "the rendered CIB file is missing on the host when it should be loaded",
  E_CIB_UNIT_MISSING: "a Pacemaker resource runs a systemd unit that does not exist on the host yet",
  E_CINDER: "Cinder's API did not answer as documented, or its services did not come up",
  E_COMMAND_ABORTED: "a command on a host was aborted (its step or probe was cancelled)",
  E_COMMAND_START: "a command could not be started at all (no shell, spawn failed)",
  E_COMMAND_TIMEOUT: "a command on a host (or a real-tool container) ran past its timeout and was killed",
  E_CONFIG_NEWLINE: "a config key, value or section name contains a newline",
  E_CONTROLLER_COUNT: "the number of controllers cannot form a quorum (fewer than 3, or even)",
  E_CONTROLLER_NO_BMC: "a controller has no BMC while fencing is on",
  E_COROSYNC_CONSENSUS: "corosync consensus is below 1.2 x token",
  E_DEPLOY_LOCKED: "another deploy of this inventory is running",
  E_DIAGNOSE_SINCE: "hastack diagnose --since/--until is neither a duration (10m) nor a timestamp",
  E_DIAGNOSE_TARBALL: "hastack diagnose cannot write its tarball",
  E_DRILL_CONFIRM: "a destructive drill was not confirmed",
  E_DRILL_INJECT: "a drill could not inject its fault",
  E_DRILL_PRECONDITION: "the site is not in the state a drill starts from",
  E_DRILL_RESTORE: "a drill could not undo its fault",
  E_DRILL_UNHEALTHY: "the site did not become healthy again after a drill",
  E_DRILL_UNKNOWN: "no drill has that name",
  E_DUPLICATE_ADDRESS: "two hosts, BMCs or VIPs use the same address",
  E_ETCD: "etcdctl failed on a host",
  E_FENCE_CHECK: "a controller cannot reach a BMC with fence_ipmilan",
  E_FENCING_OFF:
    "services.pacemaker.fencing is false: an error without waivers.fencing, a warning (validate and status) with one",
  E_FILE_READ: "a file on a host could not be read",
  E_FILE_STAT: "files on a host could not be hashed or stat'ed",
  E_FILE_WRITE: "a file on a host could not be written",
  E_GALERA_BOOTSTRAP: "Galera cannot be bootstrapped: MariaDB runs but no node is in a Primary component",
  E_GALERA_EVS: "Galera's EVS timeouts are inconsistent",
  E_GALERA_STATE:
    "a Galera node's grastate.dat, gvwstate.dat, --wsrep-recover log or wsrep status is not in Galera's format",
  E_GALERA_UNSAFE_BOOTSTRAP: "grastate.dat says safe_to_bootstrap: 0 on the bootstrap node",
  E_GUEST_BOOT: "the guest image could not be booted under QEMU",
  E_GUEST_IMAGE: "the guest image could not be built",
  E_HA_AGENT_CONFIG: "the instance-HA agent's config or key file on a compute is missing or invalid",
  E_HA_API_BIND: "the instance-HA engine cannot listen for its REST API and metrics on an address and port",
  E_HA_API_HOST: "the instance-HA API was asked about a host the engine neither watches nor hears",
  E_HA_API_INTERNAL: "the instance-HA API failed to answer a request (a bug: the engine's log has the cause)",
  E_HA_API_QUERY: "a request to the instance-HA API has an unknown or invalid query parameter",
  E_HA_API_ROUTE: "the instance-HA API has no such path or method",
  E_HA_BIND: "the instance-HA engine cannot bind its heartbeat socket to an address",
  E_HA_BLOCKLIST_UNCONFIRMED:
    "the instance-HA storage fence added (or removed) a compute's Ceph blocklist entries, but the read-back does not show it",
  E_HA_CONFIRM: "hastack ha evacuate would power a host off, and neither --yes nor --dry-run was given",
  E_HA_DRILL: "an instance-HA drill cannot run with what it was given (too few computes, a bad --vms)",
  E_HA_ENGINE_CONFIG:
    "the instance-HA engine's config or secrets file on a controller is missing or invalid (/etc/hastack/engine*.json)",
  E_HA_EVACUATE:
    "a failed compute cannot be evacuated: Nova has no nova-compute service for it, or refused to force it down or disable it",
  E_HA_HEARTBEAT_SIZE: "a compute's heartbeat is larger than a heartbeat packet may be",
  E_HA_HISTORY_OPTION: "hastack ha history's --since or --limit is not a valid value",
  E_HA_NATIVE_BUILD:
    "the instance-HA heartbeat receiver (C, native/hb-recv.c) cannot be compiled on the deploying machine",
  E_HA_NOTIFY:
    "an instance-HA alert was not sent: the mail relay or the webhook refused it, failed or did not answer in time",
  E_HA_PLACEMENT_DATA: "Placement's providers, inventories or usages are not what the capacity plan reads",
  E_HA_QUORUM: "corosync-quorumtool on a controller did not answer with a quorum status (corosync down?)",
  E_HA_REENABLE:
    "a recovered compute's nova-compute service cannot be re-enabled: force_down stays set, or the service did not report up in time",
  E_HA_STORAGE_ADDRESS:
    "a compute has no storage address, or one that is not IPv4, for the Ceph storage fence",
  E_HA_STORE_CONNECT:
    "the instance-HA engine (or hastack ha status/history) cannot reach or log in to its history database (hastack_ha), or has no password for it",
  E_HA_STORE_QUERY: "a read or write of the instance-HA history database failed",
  E_HA_STORE_ROW:
    "a row of the instance-HA history database is not what the engine writes (corrupt, or another version's)",
  E_HA_STORE_SCHEMA:
    "the instance-HA history database's schema cannot be created, is newer than this engine, or is missing where it is only read (the engine never ran)",
  E_HAPROXY_RUNTIME: "the HAProxy runtime API (stats socket) refused or failed a command",
  E_HOST_NO_MANAGEMENT: "a host has no management address",
  E_HOST_NO_STORAGE: "a storage host has no storage network address",
  E_HOSTKEY_MISMATCH: "a host presented an SSH host key other than the pinned one",
  E_HOSTKEY_REVOKED: "a host presented an SSH host key marked revoked",
  E_HOSTKEY_UNKNOWN: "a host's SSH host key is not pinned yet (first contact)",
  E_INVENTORY: "the inventory has errors (each one is listed as a problem)",
  E_INVENTORY_READ: "the inventory file cannot be read",
  E_IPMI: "a BMC did not carry out an IPMI request",
  E_IPMI_OUTPUT: "ipmitool's answer could not be understood",
  E_JOURNAL: "a deploy journal cannot be read",
  E_KEYSTONE_KEYS:
    "Keystone's Fernet or credential keys cannot be read or written on a controller, or the secrets file is older than them",
  E_KEYSTONE_ROTATE:
    "a Fernet key rotation was refused (a controller unreachable, the secrets file behind) or could not write every controller",
  E_LAB_BMC: "a lab BMC (ipmi_sim) did not start",
  E_LAB_BOOT: "a lab host did not come up (no SSH)",
  E_LAB_COMMAND: "a lab command exited non-zero",
  E_LAB_DOWN: "the lab is not up",
  E_LAB_EXEC: "a lab command could not be started",
  E_LAB_FREEZE: "a lab host to freeze or thaw is not running",
  E_LAB_GUEST_UPLOAD: "the lab's guest image or flavor could not be put into the cloud",
  E_LAB_HOST: "the lab has no host of that name",
  E_LAB_IMAGE: "the lab image could not be built",
  E_LAB_LOCK: "the lab's lock could not be taken",
  E_LAB_NET: "a lab host is not on the network a fault targets",
  E_LAB_PATH: "a path or word cannot be used in a lab script",
  E_LAB_ROOT: "the lab needs root",
  E_LAB_SECRETS: "the lab's secrets could not be prepared",
  E_LAB_SIZE: "the lab is up with another size than asked for",
  E_LAB_SPAWN: "a lab daemon could not be started",
  E_LAB_TOOLS: "host tools the lab needs are missing",
  E_LAB_USAGE: "a lab command was given an invalid argument",
  E_NETWORK_OVERLAP: "two networks' CIDRs overlap",
  E_NO_BMC: "a host to power-cycle has no BMC in the inventory",
  E_NO_RENDERED_FILE: "no file of that path is rendered for that host",
  E_NO_TRANSPORT: "no connection was set up for a host",
  E_NOVA:
    "a Nova deploy command (nova-manage, virsh) failed on a host, or a compute did not come up to be discovered",
  E_OPENSTACK_AMQP: "the RabbitMQ user of an OpenStack service cannot be set up",
  E_OPENSTACK_ANSWER: "an OpenStack API's answer is not in the shape its API reference documents",
  E_OPENSTACK_API: "an OpenStack API answered a request with an error, or not at all",
  E_OPENSTACK_DATABASE: "the database or grants of an OpenStack service cannot be set up",
  E_OPENSTACK_IDENTITY: "the Keystone registration of an OpenStack service cannot be set up",
  E_OPENSTACK_SPEC: "an OpenStack service's declaration is inconsistent",
  E_OVERRIDE_FILE: "an override names a file no targeted host has",
  E_OVERRIDE_SECTION: "an override names a section the file lacks",
  E_OVERRIDE_UNSTRUCTURED: "an override targets a file without sections",
  E_OVN_CLUSTER:
    "an OVN database's Raft cluster cannot take a controller back (the old server cannot be kicked, or the join fails)",
  E_PACKAGE_NOT_INSTALLED:
    "apt-get installed a host's packages, but dpkg does not list some of them as installed",
  E_PLAN_CYCLE: "deploy steps wait on each other in a cycle",
  E_PLAN_DUPLICATE: "two deploy steps have the same id",
  E_PLAN_UNKNOWN_STEP: "a deploy step waits on a step that does not exist",
  E_PORT_COLLISION: "two listeners bind the same address and port",
  E_PROBE_TIMEOUT: "a health probe gave no answer within its timeout",
  E_RABBITMQ: "rabbitmqctl or rabbitmq-diagnostics failed on a host",
  E_RABBITMQ_JOIN: "a RabbitMQ node cannot join the cluster",
  E_RABBITMQ_QUEUE_TYPE: "a queue declared without a type did not come out quorum",
  E_RECOVER_CONFIRM:
    "hastack recover was not confirmed: the site name typed did not match, or stdin is not a terminal and --yes was not given",
  E_RECOVER_PLAN_CHANGED:
    "the recovery plan computed right before acting differs from the one shown (the state changed meanwhile)",
  E_RECOVER_STEP: "a recovery step failed on a host: the recovery stopped there",
  E_RECOVER_TIMEOUT: "a node did not reach the awaited state (Primary and Synced, RabbitMQ running) in time",
  E_RESUME_FINISHED: "--resume, but the last run finished without errors",
  E_RESUME_LIMIT: "--resume with another --limit than the run it resumes",
  E_RESUME_NONE: "--resume, but there is no earlier run",
  E_RESUME_STALE: "--resume, but the inventory, files or secrets changed since that run",
  E_SECRET_EMPTY: "secrets set was given an empty value",
  E_SECRET_MISSING: "a secret a file, step or probe needs is not in the secrets file",
  E_SECRET_NAME: "a secret name is malformed (lowercase letter, then letters, digits, '_')",
  E_SECRET_UNKNOWN: "no generated or inventory-provided secret has that name",
  E_SECRETS_FILE_MISSING: "the secrets file does not exist",
  E_SECRETS_FILE_MODE: "the secrets file is readable by others",
  E_SECRETS_FILE_READ: "the secrets file cannot be read",
  E_SECRETS_FILE_SCHEMA: "the secrets file is not a map of secret names to values",
  E_SECRETS_FILE_SYNTAX: "the secrets file is not valid YAML",
  E_SERVICE_DEPENDENCY: "an enabled service requires one that is not enabled",
  E_SHIP_LOAD:
    "a hastack program shipped to a host (the instance-HA agent or engine) does not load there with the pinned Node",
  E_SHIP_LOCAL:
    "a hastack program cannot be assembled on the deploying machine (a source, a package or the pinned Node is missing)",
  E_SHIP_NODE: "the pinned Node copied to a host does not run there or is not the version shipped",
  E_SMOKE_SITE: "`hastack smoke` cannot run on this site (services not enabled, no controller answers)",
  E_SMOKE_STEP: "a step of `hastack smoke` failed (the step and the client's words say which and why)",
  E_SQL: "a SQL statement failed on a host",
  E_SSH_AUTH: "SSH authentication to a host was refused",
  E_SSH_CHANNEL: "an SSH channel for a command could not be opened",
  E_SSH_CONNECT: "a host cannot be reached over SSH",
  E_SSH_DISCONNECTED: "the SSH connection dropped while a command ran",
  E_SSH_KEY: "the SSH private key cannot be read",
  E_SSH_TIMEOUT: "the SSH handshake with a host timed out",
  E_STEP_COMMAND: "a command run by a deploy step exited non-zero",
  E_STEP_ERROR: "a deploy step failed with an unexpected error",
  E_STEP_NO_APPLY: "a host is not in the wanted state and the step cannot change it",
  E_STEP_TIMEOUT: "a deploy step ran past its timeout",
  E_STEP_UNCONVERGED: "a deploy step applied, but its check still finds a difference",
  E_STEP_WAIT: "a deploy step waited for a condition that did not come",
  E_SYSTEMD: "systemctl failed to change or report a unit",
  E_TEST_CONTAINER: "a test's service container (a real daemon for an integration test) did not start",
  E_TLS_CERT: "a stored TLS certificate or key cannot be read",
  E_TLS_CERT_UNFIT:
    "the stored public certificate cannot serve the site: another CA's, it does not name the public VIP or hostname, or its key differs",
  E_TLS_ISSUE: "the site CA or the public certificate could not be made (openssl failed)",
  E_TLS_PUBLIC_VIP: "TLS on the public endpoints needs a public VIP of its own",
  E_TOOL_OUTPUT: "a tool's output (rabbitmqctl, etcdctl, haproxy...) is not what it documents",
  E_UMHA_CONFLICT:
    "hastack ha import-umha: UMHA's files give a host another BMC or storage address (or a secret another value) than the inventory has",
  E_UMHA_FILE: "hastack ha import-umha: one of UMHA's files is missing, unreadable or has bad lines",
  E_UMHA_INVALID:
    "hastack ha import-umha: the inventory with UMHA's values would not validate (nothing written)",
  E_UMHA_REFUSED:
    "hastack ha import-umha: UMHA's settings ask for what hastack never does (evacuating without a fence)",
  E_UNKNOWN_HOST: "a connection was asked for a host that is not in the inventory",
  E_UNKNOWN_NAME: "a name given on the command line is not one of the valid ones",
  E_UNKNOWN_NETWORK: "an address is given for a network the inventory does not define",
  E_VIP_MANAGER: "vip_manager is neither pacemaker nor keepalived",
  E_VIP_OUTSIDE_MANAGEMENT: "an internal VIP is outside the management network",
  E_VIP_OUTSIDE_NETWORKS: "the public VIP is on none of the defined networks",
  E_VIP_UNKNOWN_SERVICE: "vips.services names a service that is not enabled",
} as const satisfies Record<string, string>;

/**
 * Codes passed through from the parsers that find inventory problems: the YAML library's own
 * error codes and Zod's issue codes, each under a prefix.
 */
export const errorCodeFamilies = {
  "E_YAML_*": "the inventory is not valid YAML; the rest is the YAML parser's code (E_YAML_DUPLICATE_KEY)",
  "E_SCHEMA_*": "the inventory breaks its schema; the rest is Zod's issue code (E_SCHEMA_INVALID_TYPE)",
} as const;

export type ErrorCode =
  | keyof typeof errorCodes
  | `E_YAML_${YamlErrorCode}`
  | `E_SCHEMA_${Uppercase<z.core.$ZodIssue["code"]>}`;

/** docs/errors.md: every code and family with its meaning, generated from the catalogue. */
export function errorsMarkdown(): string {
  const rows = [...Object.entries(errorCodes), ...Object.entries(errorCodeFamilies)].map(
    ([code, meaning]) => `| \`${code}\` | ${meaning} |`,
  );
  return [
    "# Error codes",
    "",
    "Every error hastack reports carries one of these codes, as `error[CODE]: message` or in",
    "`--json` output. Generated from `src/util/error-codes.ts` by `npm run errors`: do not edit.",
    "",
    "| code | meaning |",
    "|---|---|",
    ...rows,
    "",
  ].join("\n");
}
