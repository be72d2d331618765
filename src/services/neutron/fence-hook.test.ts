import { beforeAll, describe, expect, it } from "vitest";
import { cibDocument } from "../../formats/cib.ts";
import { runInImage, toolRoot } from "../../testing/real-tools.ts";
import {
  FENCE_ALERT,
  FENCED_PROGRAM,
  FENCED_SUDOERS,
  fenceAlertScript,
  fencedProgram,
  fenceHookFiles,
  fenceHookPacemaker,
} from "./fence-hook.ts";

/**
 * The alert agent and its root program against a real MariaDB (Neutron's three tables, with the
 * columns 2025.1 defines and the program reads), a real OVN northbound ovsdb-server, real sudo
 * with the rendered rule, as the real hacluster user. Faked at the boundary a container cannot
 * have: `crm_node` (no Pacemaker cluster) and `systemd-run` (no systemd), both recording calls.
 */
const STUCK = "11111111-0000-4000-8000-000000000001"; // a VM's port: DOWN in Neutron, up in OVN
const DOWN = "11111111-0000-4000-8000-000000000002"; // DOWN in both
const ACTIVE = "11111111-0000-4000-8000-000000000003"; // ACTIVE in Neutron, up in OVN
const ROUTER = "11111111-0000-4000-8000-000000000004"; // a router's port, DOWN and up
const UNBOUND = "11111111-0000-4000-8000-000000000005"; // a VM's port bound to no host

const SETUP = `set -e
mkdir -p /run/mysqld /run/ovn /run/openvswitch && chown mysql:mysql /run/mysqld
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=socket > /tmp/install.log 2>&1
mariadbd --no-defaults --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock --skip-networking > /tmp/db.log 2>&1 &
for i in $(seq 1 240); do mariadb -e 'SELECT 1' > /dev/null 2>&1 && break; sleep 0.25; done
mariadb -e "CREATE DATABASE neutron"
mariadb neutron -e "
CREATE TABLE ovn_hash_ring (node_uuid VARCHAR(36) PRIMARY KEY, group_name VARCHAR(256), hostname VARCHAR(255), created_at DATETIME, updated_at DATETIME);
CREATE TABLE ports (id VARCHAR(36) PRIMARY KEY, status VARCHAR(16), admin_state_up BOOLEAN, device_owner VARCHAR(255));
CREATE TABLE ml2_port_bindings (port_id VARCHAR(36), host VARCHAR(255), status VARCHAR(16), PRIMARY KEY (port_id, host));
INSERT INTO ovn_hash_ring VALUES ('a1','mechanism_driver','ctl1',NOW(),NOW()), ('a2','mechanism_driver','ctl1',NOW(),NOW()),
  ('b1','mechanism_driver','ctl2',NOW(),NOW()), ('c1','mechanism_driver','ctl3',NOW(),NOW());
INSERT INTO ports VALUES ('${STUCK}','DOWN',1,'compute:nova'), ('${DOWN}','DOWN',1,'compute:nova'),
  ('${ACTIVE}','ACTIVE',1,'compute:nova'), ('${ROUTER}','DOWN',1,'network:router_interface'), ('${UNBOUND}','DOWN',1,'compute:nova');
INSERT INTO ml2_port_bindings VALUES ('${STUCK}','cmp1','ACTIVE'), ('${DOWN}','cmp1','ACTIVE'),
  ('${ACTIVE}','cmp2','ACTIVE'), ('${ROUTER}','ctl2','ACTIVE'), ('${UNBOUND}','','ACTIVE');"
ovsdb-tool create /tmp/nb.db /usr/share/ovn/ovn-nb.ovsschema
ovsdb-server /tmp/nb.db --remote=punix:/run/ovn/ovnnb_db.sock --pidfile=/tmp/nb.pid --detach --log-file=/tmp/nb.log
ovn-nbctl ls-add net1 ${[STUCK, DOWN, ACTIVE, ROUTER, UNBOUND].map((p) => `-- lsp-add net1 ${p}`).join(" ")}
for p in ${STUCK} ${ACTIVE} ${ROUTER} ${UNBOUND}; do ovn-nbctl set Logical_Switch_Port $p up=true; done
set +e
ring() { mariadb -N -B neutron -e "SELECT hostname, COUNT(*) FROM ovn_hash_ring GROUP BY hostname ORDER BY hostname" | tr '\\t\\n' ': '; echo; }`;

/** crm_node and systemd-run as a container can have them: recorders. */
const FAKES = [
  {
    path: "/usr/local/bin/crm_node",
    mode: 0o755,
    content: '#!/bin/sh\ncase "$1" in -p) echo "ctl2 ctl3" ;; -n) cat /tmp/me ;; esac\n',
  },
  {
    path: "/usr/local/bin/systemd-run",
    mode: 0o755,
    content: '#!/bin/sh\necho "$*" >> /tmp/systemd-run.calls\n',
  },
];

function placedHook(timing?: { sweepS: number; everyS: number }) {
  return fenceHookFiles().map((f) => ({
    path: f.path,
    mode: f.mode,
    content: f.path === FENCED_PROGRAM && timing ? fencedProgram(timing) : String(f.content),
  }));
}

function line(stdout: string, key: string): string {
  return (
    stdout
      .split("\n")
      .find((l) => l.startsWith(`${key}=`))
      ?.slice(key.length + 1) ?? ""
  );
}

beforeAll(() => toolRoot(), 1_800_000);

describe("the fenced-controller hook: the alert, sudo and the hash ring on real MariaDB and OVN", () => {
  it("drops only a successfully fenced host's rows, as hacluster through the sudo rule, and starts one sweep", async () => {
    const result = await runInImage(
      `${SETUP}
visudo -cf ${FENCED_SUDOERS} > /dev/null; echo "visudo=$?"
# As pacemaker-execd sets them (seen on the lab): kind, rc, the action inside the description.
alert() { runuser -u hacluster -- env CRM_alert_kind="$1" CRM_alert_rc="$2" CRM_alert_task=st_notify_fence CRM_alert_node="$4" \
  CRM_alert_desc="Operation $3 of $4 by ctl3 for pacemaker-controld.459@ctl3: $([ "$2" = 0 ] && echo OK || echo Error) (ref=1a7a7706)" ${FENCE_ALERT}; echo "rc=$?"; }
echo ctl2 > /tmp/me
alert fencing 1 reboot ctl1 > /dev/null; echo "failed-fence=$(ring)"
alert node 0 reboot ctl1 > /dev/null; echo "node-event=$(ring)"
alert fencing 0 on ctl1 > /dev/null; echo "power-on=$(ring)"
runuser -u hacluster -- ${FENCED_PROGRAM} ctl1 > /dev/null 2>&1; echo "no-sudo=$?"
runuser -u hacluster -- sudo -n /bin/true 2>/dev/null; echo "other-command=$?"
alert fencing 0 reboot "ctl1'; DELETE FROM ovn_hash_ring; --" > /dev/null 2>&1; echo "injection=$(ring)"
echo "injection-rc=$(runuser -u hacluster -- sudo -n ${FENCED_PROGRAM} "ctl1'; --" > /dev/null 2>&1; echo $?)"
alert fencing 0 reboot ctl1 > /tmp/alert.out 2>&1; echo "fenced=$(ring)"
echo "fenced-output=$(grep -c 'ctl1 was fenced: dropped its 2 worker(s)' /tmp/alert.out)"
echo "sweep=$(cat /tmp/systemd-run.calls 2>/dev/null)"
: > /tmp/systemd-run.calls; echo ctl3 > /tmp/me
alert fencing 0 off ctl2 > /dev/null 2>&1; echo "second=$(ring)"
echo "sweep-by-ctl3=$(cat /tmp/systemd-run.calls)"`,
      { files: [...placedHook(), ...FAKES], timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(line(out, "visudo")).toBe("0");
    const all = "ctl1:2 ctl2:1 ctl3:1";
    // A failed fence, another kind of event, a power-on: the workers are not known dead.
    expect(line(out, "failed-fence").trim()).toBe(all);
    expect(line(out, "node-event").trim()).toBe(all);
    expect(line(out, "power-on").trim()).toBe(all);
    // hacluster may run the program only through sudo, and nothing else through it.
    expect(line(out, "no-sudo")).not.toBe("0");
    expect(line(out, "other-command")).not.toBe("0");
    expect(line(out, "injection").trim()).toBe(all);
    expect(line(out, "injection-rc")).toBe("2");
    expect(line(out, "fenced").trim()).toBe("ctl2:1 ctl3:1");
    expect(line(out, "fenced-output")).toBe("1");
    // ctl2 is the partition's first member: it starts the sweep as its own unit.
    expect(line(out, "sweep")).toBe(
      `--quiet --collect --unit=hastack-neutron-sweep-ctl1 ${FENCED_PROGRAM} --sweep ctl1`,
    );
    // ctl3 drops ctl2's rows too but leaves the sweep to the first member.
    expect(line(out, "second").trim()).toBe("ctl3:1");
    expect(line(out, "sweep-by-ctl3")).toBe("");
  }, 180_000);

  it("re-announces only a VM's bound port that OVN has up and Neutron DOWN on two passes, by enabled false then true", async () => {
    const result = await runInImage(
      `${SETUP}
ovsdb-client monitor unix:/run/ovn/ovnnb_db.sock OVN_Northbound Logical_Switch_Port name,enabled --format=csv > /tmp/mon.csv 2>&1 &
sleep 1
${FENCED_PROGRAM} --sweep ctl1 > /tmp/sweep.out 2>&1; echo "rc=$?"
sleep 1
for p in ${[STUCK, DOWN, ACTIVE, ROUTER, UNBOUND].join(" ")}; do echo "enabled-$p=$(ovn-nbctl get Logical_Switch_Port $p enabled)"; done
echo "toggles=$(grep -c '${STUCK}.*false' /tmp/mon.csv)"
# An update is an "old" line (the row's uuid) and a "new" line (its name): any other port written?
echo "others=$(grep ',new,' /tmp/mon.csv | grep -vc '${STUCK}')"
echo "logged=$(grep -c 'Port ${STUCK} is up in OVN and was DOWN in Neutron' /tmp/sweep.out)"`,
      { files: [...placedHook({ sweepS: 3, everyS: 1 }), ...FAKES], timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(line(out, "rc")).toBe("0");
    expect(line(out, `enabled-${STUCK}`)).toBe("true");
    // Untouched: never written, so still the empty set.
    for (const p of [DOWN, ACTIVE, ROUTER, UNBOUND]) expect(line(out, `enabled-${p}`)).toBe("[]");
    expect(Number(line(out, "toggles"))).toBeGreaterThanOrEqual(1);
    expect(line(out, "others")).toBe("0");
    expect(Number(line(out, "logged"))).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe("the alert in the CIB", () => {
  it("selects fencing events only and carries its timeout", () => {
    const cib = cibDocument(fenceHookPacemaker());
    expect(cib).toContain(`<alert id="neutron-fenced" path="${FENCE_ALERT}">`);
    expect(cib).toContain('<nvpair id="neutron-fenced-meta_attributes-timeout" name="timeout" value="30s"/>');
    expect(cib).toMatch(/<select>\s*<select_fencing\/>\s*<\/select>/);
    expect(fenceAlertScript()).toContain(`exec sudo -n ${FENCED_PROGRAM} "$CRM_alert_node"`);
  });
});
