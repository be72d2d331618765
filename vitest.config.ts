import { defineConfig } from "vitest/config";

const LAB_PENDING = [
  "src/health/strictness.e2e.test.ts",
  "src/services/ceph/ops.e2e.test.ts",
  "src/services/keystone/keystone.e2e.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    // The first run may build the lab image (several minutes); it is cached afterwards.
    hookTimeout: 1_800_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["src/**/*.test.ts"], exclude: ["src/**/*.e2e.test.ts"] },
      },
      {
        // End-to-end tests share one lab: one file at a time. `npm test` runs this project after
        // the unit project, not beside it: the unit tests' real daemons would compete for the 2
        // cores with the lab's failover timings.
        extends: true,
        test: {
          name: "e2e",
          include: ["src/**/*.e2e.test.ts"],
          exclude: LAB_PENDING,
          fileParallelism: false,
        },
      },
      {
        // Lab tests written but not yet run green on the lab: `npm run test:lab-pending`. Each
        // moves into the e2e project (and so into `npm test` and CI) once it has passed there.
        extends: true,
        test: { name: "e2e-pending", include: LAB_PENDING, fileParallelism: false },
      },
    ],
  },
});
