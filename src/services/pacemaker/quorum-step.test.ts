import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exampleTopology } from "../../testing/fixtures.ts";
import { recordingTransport, runStep } from "../openstack/test-kit.ts";
import { services } from "../registry.ts";
import { pacemaker } from "./index.ts";

/** The quorum step against crm_mon's answers while a cluster forms (a recording transport). */
const topology = exampleTopology("lab", undefined, services);
const healthy = readFileSync(new URL("../../hostkit/fixtures/crm-mon-healthy.xml", import.meta.url), "utf8");
// What crm_mon printed on ctl1 seconds after the units started (2026-12-03): a summary without
// current_dc and cluster_options.
const forming =
  '<pacemaker-result api-version="2.41" request="crm_mon --output-as=xml --one-shot --inactive">\n  <summary>\n    <stack type="corosync" pacemakerd-state="running"/>\n  </summary>\n  <nodes/>\n  <status code="0" message="OK"/>\n</pacemaker-result>\n';

function quorumStep() {
  const steps = typeof pacemaker.steps === "function" ? pacemaker.steps(topology, services) : pacemaker.steps;
  const step = steps?.find((s) => s.id === "quorum");
  if (!step) throw new Error("no pacemaker.quorum step");
  return step;
}

describe("pacemaker.quorum while the cluster forms", () => {
  it("waits through an unreachable CIB and a summary without a DC, then passes", async () => {
    const answers = [
      { code: 102, stderr: "crm_mon: Connection to cluster failed: Not connected" },
      { stdout: forming },
      { stdout: healthy },
    ];
    let asked = 0;
    const t = recordingTransport("ctl1", (argv) => {
      if (!argv.startsWith("crm_mon")) return undefined;
      const answer = answers[Math.min(asked, answers.length - 1)];
      asked++;
      return answer;
    });
    const r = await runStep({
      service: "pacemaker",
      step: quorumStep(),
      host: "ctl1",
      topology,
      services,
      transport: t,
      secrets: {},
    });
    expect(r).toMatchObject({ before: false, applied: true, after: true });
    expect(r.log[0]).toBe("crm_mon exit code 102: crm_mon: Connection to cluster failed: Not connected");
    expect(asked).toBe(4);
  });

  it("says a forming cluster is forming, not that crm_mon's answer is broken", async () => {
    const t = recordingTransport("ctl1", (argv) =>
      argv.startsWith("crm_mon") ? { stdout: forming } : undefined,
    );
    const r = await runStep({
      service: "pacemaker",
      step: { ...quorumStep(), apply: async () => {} },
      host: "ctl1",
      topology,
      services,
      transport: t,
      secrets: {},
    });
    expect(r.before).toBe(false);
    expect(r.log[0]).toMatch(/^the cluster is still forming: Cannot read crm_mon's answer on ctl1/);
  });
});
