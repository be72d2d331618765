import { defineConfig } from "vitest/config";

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
        // End-to-end tests share one lab: one file at a time, after the unit tests.
        extends: true,
        test: {
          name: "e2e",
          include: ["src/**/*.e2e.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
