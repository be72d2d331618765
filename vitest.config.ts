import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * E2e files that must run first, in this order: base-layer deploys the lab from scratch, and the
 * lab's own checks then run on hosts that have been deployed (they passed there, in every CI).
 */
const FIRST = ["src/deploy/base-layer.e2e.test.ts", "src/lab/lab.e2e.test.ts"];
/**
 * E2e files that must run after all others on the shared lab, in this order: the cloud's leaves
 * Nova, Neutron and OVN running, and the other files' failover budgets were measured without
 * them; the evacuation reuses the cloud the smoke file deployed; the recovery cuts every
 * controller's power; `lab down` goes last, since the lab it tears down would cost the next file
 * a boot and a deploy from scratch.
 */
const LAST = [
  "src/ops/smoke/smoke.e2e.test.ts",
  "src/instance-ha/engine.e2e.test.ts",
  // Issue #11's controller-replace drill: a quiet controller erased and reinstalled, then
  // `hastack deploy` (~5 min with its deploy). Before the power drills, which it leaves a whole site.
  "src/ops/drills/controller-replace.e2e.test.ts",
  // Issue #11's power-loss drill: all three controllers cut, all back, recover (~4 min with its
  // deploy; passed 4 of 4 on 2026-12-05, the e2e file once and the CLI three times).
  "src/ops/drills/power-loss.e2e.test.ts",
  // Issue #11's power cut of every controller, two back (~4 min; passed whole twice in a row on
  // 2026-12-04, recover 80.2 s and 80.6 s): after the others, which it leaves a recovered site.
  "src/ops/recovery/recover.e2e.test.ts",
  // Issue #11's automatic mode, the same power cut with `recover --auto` watching (~4 min;
  // passed on the cloud lab on 2026-12-05 in 246 s, and its steps by hand before that).
  "src/ops/recovery/recover-auto.e2e.test.ts",
  "src/lab/lab-down.e2e.test.ts",
];

class FixedEnds extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Each list in its own order (see FIRST and LAST).
    const rank = (list: string[], f: TestSpecification) => list.findIndex((l) => f.moduleId.endsWith(l));
    const pinned = (list: string[]) =>
      sorted.filter((f) => rank(list, f) >= 0).sort((a, b) => rank(list, a) - rank(list, b));
    const middle = sorted.filter((f) => rank(FIRST, f) < 0 && rank(LAST, f) < 0);
    return [...pinned(FIRST), ...middle, ...pinned(LAST)];
  }
}

// Tests written but not yet passed where they must (the lab, or twice in a row on a loaded
// machine), or too long for CI's 60 minutes: `npm run test:pending` runs them. Each moves into
// `npm test` (and CI) once it has passed and fits.
const PENDING = [
  // Passed on the lab (2026-12-02, all four cases, after two fixes it found); ~10.5 min, which
  // would take CI on a fresh machine (image build included) to about its 60 minutes.
  "src/services/ceph/ops.e2e.test.ts",
  "src/services/keystone/keystone.e2e.test.ts",
  // A real 3-mon, 3-OSD Ceph in one container: 5 of 6 passed in each of two runs, a different
  // one failing each time (replace-osd drain; a rolling-restart quorum sample).
  "src/services/ceph/ops-real.test.ts",
  // Real Keystone 2025.1 in a container: 5/5 twice, then its rotate-keys case failed once under
  // load. Keystone's deploy and token checks run in CI through the lab e2e tests all the same.
  "src/services/keystone/keystone-daemons.test.ts",
  // Issue #9's cloud and #10's engine drill (~35 min together, after the smoke file's deploy of
  // 14-18 min under load). Out of CI on 2026-12-04, after two CI runs in a row failed the smoke
  // file's first test: right after that deploy, `rabbitmq-diagnostics cluster_status` took over
  // 30 s on every controller for 3 minutes (4 s later on), so status was not healthy within the
  // test's 2 minutes; the servers booted and answered all the same. With them, CI took ~75 min,
  // over its 60. The engine file passed on the lab by hand that day but for a /metrics pattern,
  // since fixed. Both return once status converges in bounded time after a deploy and CI fits.
  // The engine file now runs every compute drill of issue #10 (~20 min on the deployed cloud);
  // on 2026-12-05 each drill passed in it, the valve's after its fix by the CLI.
  "src/ops/smoke/smoke.e2e.test.ts",
  "src/instance-ha/engine.e2e.test.ts",
  // Issue #9's controller-poweroff-under-load (~8-11 min, and the whole cloud deployed first):
  // from run 13 on (the hash-ring alert), 9 of 10 passed on the lab, runs 21 and 22 through this
  // file on 2026-12-05; the one failure, Keystone's login stall, was reproduced and bounded
  // (docs/tuning.md). It joins CI once CI has room for the cloud's deploy beside the base layer.
  "src/ops/drills/under-load.e2e.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    sequence: { sequencer: FixedEnds },
    // The first run may build the lab image (several minutes); it is cached afterwards.
    hookTimeout: 1_800_000,
    projects: [
      {
        extends: true,
        // bench/: the bench's own pure parts (its CPU sampler and split), tested beside them.
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["src/**/*.e2e.test.ts", ...PENDING],
        },
      },
      {
        // End-to-end tests share one lab: one file at a time. `npm test` runs this project after
        // the unit project, not beside it: the unit tests' real daemons would compete for the 2
        // cores with the lab's failover timings.
        extends: true,
        test: {
          name: "e2e",
          include: ["src/**/*.e2e.test.ts"],
          exclude: PENDING,
          fileParallelism: false,
          // A no-op deploy of the default site takes about a minute, so a test that runs two of
          // them (the dry-run case) took 129 s in CI: 120 s is a unit test's budget, not a lab's.
          testTimeout: 600_000,
        },
      },
      {
        extends: true,
        test: { name: "pending", include: PENDING, fileParallelism: false, testTimeout: 600_000 },
      },
    ],
  },
});
