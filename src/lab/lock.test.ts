import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { lockExclusive } from "./lock.ts";

it("serialises holders of the same lock file, and releases on close", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hastack-lock-"));
  const file = path.join(dir, ".lock");
  const events: string[] = [];
  const releaseA = await lockExclusive(file);
  events.push("A locked");
  let waited = false;
  const b = lockExclusive(file, () => {
    waited = true;
  }).then(async (release) => {
    events.push("B locked");
    await release();
  });
  await new Promise((r) => setTimeout(r, 1300));
  events.push("A releases");
  await releaseA();
  await b;
  expect(events).toEqual(["A locked", "A releases", "B locked"]);
  expect(waited).toBe(true);
  await fs.rm(dir, { recursive: true });
});
