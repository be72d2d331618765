import { describe, expect, it } from "vitest";
import { HastackError } from "../../util/errors.ts";
import { step } from "./site.ts";

describe("backup steps' errors", () => {
  it("name the host, the step and the cause, without saying the host twice", async () => {
    const failing = () =>
      Promise.reject(
        new HastackError(
          "E_BACKUP",
          "Cannot take the backup on ctl2: exit code 1: mariadb-backup | gzip | split failed",
        ),
      );
    const error = await step("E_BACKUP", "back up galera", "ctl2", "mariadb-backup", failing).catch((e) => e);
    expect(error).toBeInstanceOf(HastackError);
    expect(error).toMatchObject({
      code: "E_BACKUP",
      message:
        "Cannot back up galera on ctl2: mariadb-backup: exit code 1: mariadb-backup | gzip | split failed",
    });
    const other = await step("E_BACKUP_VERIFY", "verify backup 20261204T151230Z", "ctl1", "fetch", () =>
      Promise.reject(new Error("Cannot connect to ctl3: timed out")),
    ).catch((e) => e);
    expect(other.message).toBe(
      "Cannot verify backup 20261204T151230Z on ctl1: fetch: Cannot connect to ctl3: timed out",
    );
  });
});
