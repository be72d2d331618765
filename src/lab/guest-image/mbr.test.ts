import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { masterBootRecord } from "./mbr.ts";

const SfdiskDump = z.object({
  partitiontable: z.object({
    label: z.string(),
    id: z.string(),
    partitions: z.array(
      z.object({
        node: z.string(),
        start: z.number(),
        size: z.number(),
        type: z.string(),
        bootable: z.boolean().optional(),
      }),
    ),
  }),
});

// sfdisk reads the disk back: the table is checked by a real partitioner, not by this writer.
describe("the guest disk's MBR", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "hastack-mbr-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bootCode = Buffer.alloc(440, 0x90);

  it("holds one bootable Linux partition from 1 MiB to the end, with its signature and boot code", () => {
    const disk = Buffer.alloc(24 * 1024 * 1024);
    const mbr = masterBootRecord({
      bootCode,
      signature: 0x1234abcd,
      offset: 1024 * 1024,
      length: 23 * 1024 * 1024,
    });
    mbr.copy(disk, 0);
    const file = path.join(dir, "disk.raw");
    writeFileSync(file, disk);
    const dump = SfdiskDump.parse(JSON.parse(execFileSync("sfdisk", ["--json", file], { encoding: "utf8" })));
    expect(dump.partitiontable.label).toBe("dos");
    expect(dump.partitiontable.id).toBe("0x1234abcd");
    expect(dump.partitiontable.partitions).toEqual([
      { node: `${file}1`, start: 2048, size: 23 * 2048, type: "83", bootable: true },
    ]);
    expect(mbr.subarray(0, 440).equals(bootCode)).toBe(true);
  });

  it("refuses boot code that would overwrite the partition table", () => {
    expect(() =>
      masterBootRecord({
        bootCode: Buffer.alloc(441),
        signature: 1,
        offset: 1024 * 1024,
        length: 1024 * 1024,
      }),
    ).toThrow(/exceeds 440/);
  });
});
