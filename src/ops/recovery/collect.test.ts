import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { HastackError } from "../../util/errors.ts";
import { collectRecoveryFacts } from "./collect.ts";
import { WSREP_RECOVER_ARGV } from "./collect-galera.ts";
import { fakeHost, hosts } from "./fixtures/fake-host.ts";
import { fixture, HISTORY } from "./fixtures/galera-facts.ts";
import { GRASTATE_PATH } from "./galera-state.ts";
import { recoverReport, recoverText } from "./recover-report.ts";

/**
 * Issue #11's case on the lab's inventory, through fake Transports (the boundary): all three
 * controllers lost power, ctl1 and ctl2 came back, ctl3 did not. Galera's files and recovery
 * logs are the real daemon's (fixtures/README.md); RabbitMQ's shutdown file is in its documented
 * format (collect-rabbitmq.test.ts says why).
 */
const topology = exampleTopology("lab");
const RECOVER = WSREP_RECOVER_ARGV.join(" ");

function survivor(name: "ctl1" | "ctl2", bmc: { stdout?: string; error?: HastackError }) {
  return fakeHost(name, {
    units: { mariadb: "failed", "rabbitmq-server": "activating" },
    files: {
      [GRASTATE_PATH]: fixture(`grastate-${name}-killed.dat`),
      [`/var/lib/rabbitmq/mnesia/rabbit@${name}/nodes_running_at_shutdown`]:
        "[rabbit@ctl1,rabbit@ctl2,rabbit@ctl3].\n",
    },
    answers: {
      "pgrep -x mariadbd": { code: 1 },
      [RECOVER]: { stderr: fixture(`wsrep-recover-${name}-killed.log`) },
      check_running: { code: 69, stderr: `Error:\nrabbit is not running on node rabbit@${name}.` },
      ipmitool: bmc,
      // A site that lost power as a whole: Pacemaker's fence history started empty.
      "stonith_admin --history": {
        stdout:
          '<pacemaker-result api-version="2.38" request="stonith_admin --history ctl3 --output-as=xml">\n  <list name="fencing history" count="0"/>\n  <status code="0" message="OK"/>\n</pacemaker-result>\n',
      },
      crm_mon: { code: 102, stderr: "crm_mon: Not connected" },
    },
  });
}

function site(bmc: { stdout?: string; error?: HastackError }) {
  const others = topology.hosts.filter((h) => !["ctl1", "ctl2"].includes(h.name));
  return hosts(
    survivor("ctl1", bmc),
    survivor("ctl2", bmc),
    ...others.map((h) => fakeHost(h.name, { down: true })),
  );
}

const secret = (name: string) => (name.startsWith("bmc_") ? "Bmc-Secret" : undefined);

describe("collectRecoveryFacts (two of three controllers back)", () => {
  it("with the lost controller's BMC saying off: recovered seqnos, bootstrap from ctl1, force-boot", async () => {
    const facts = await collectRecoveryFacts({
      topology,
      transport: site({ stdout: "Chassis Power is off\n" }),
      secret,
    });
    expect(Object.keys(facts.unreachable)).toEqual(["ctl3"]);
    expect(facts.galera.power.ctl3).toEqual({ power: "off", fenced: false });
    expect(facts.galera.nodes.map((n) => n.state)).toEqual(["stopped", "stopped", "unreachable"]);
    expect(facts.rabbitmq.nodes.map((n) => n.state)).toEqual(["booting", "booting", "unreachable"]);
    expect(facts.rabbitmq.replicas).toBe(3);
    const report = recoverReport(facts);
    expect(report.galera).toMatchObject({
      kind: "bootstrap",
      from: "ctl1",
      position: { uuid: HISTORY, seqno: 9 },
    });
    expect(report.rabbitmq.kind).toBe("force-boot");
    expect(report.exitCode).toBe(2);
    const text = recoverText(report);
    expect(text).toContain("ctl3: Cannot connect to ctl3");
    expect(text).toContain("ctl1: mariadbd --wsrep-recover found seqno 9 (grastate.dat says -1)");
    expect(text).toContain("Galera: bootstrap from ctl1 (seqno 9)");
    expect(text).not.toContain("Bmc-Secret");
  });

  it("with the lost controller's BMC silent and no fence: refused, saying why", async () => {
    const facts = await collectRecoveryFacts({
      topology,
      transport: site({
        error: new HastackError("E_COMMAND_TIMEOUT", "Command timed out after 20000 ms on ctl1"),
      }),
      secret,
    });
    const report = recoverReport(facts);
    expect(report.verdict).toBe("refused");
    expect(report.exitCode).toBe(3);
    expect(report.galera.reasons[0]).toMatch(/^ctl3 is unreachable and its power state is unknown/);
    expect(recoverText(report)).toContain("Galera: REFUSED, nothing will be done");
  });
});
