import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cpioArchive } from "./cpio.ts";

// GNU cpio reads the archive back: the format is checked by a real reader, not by this writer.
describe("the initramfs cpio writer (newc)", () => {
  const archive = cpioArchive([
    { kind: "dir", path: "bin" },
    { kind: "dir", path: "dev" },
    { kind: "dir", path: "etc" },
    { kind: "char", path: "dev/console", major: 5, minor: 1 },
    { kind: "file", path: "bin/busybox", data: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), mode: 0o755 },
    { kind: "symlink", path: "init", target: "bin/busybox" },
    // Odd lengths exercise newc's 4-byte padding of names and data.
    { kind: "file", path: "etc/rc.sh", data: "#!/bin/busybox sh\necho hi\n", mode: 0o755 },
    { kind: "file", path: "etc/a", data: "x" },
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), "hastack-cpio-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists every entry with its type, mode, owner and device numbers", () => {
    const listing = execFileSync("cpio", ["-itv", "--quiet"], { input: archive, encoding: "utf8" });
    const rows = listing.trim().split("\n");
    expect(rows).toHaveLength(8);
    expect(rows.find((r) => r.endsWith(" dev/console"))).toMatch(/^crw------- +1 root +root +5, +1 /);
    expect(rows.find((r) => r.endsWith(" bin/busybox"))).toMatch(/^-rwxr-xr-x +1 root +root +7 /);
    expect(rows.find((r) => r.includes(" init -> "))).toMatch(/^lrwxrwxrwx .* init -> bin\/busybox$/);
    expect(rows.find((r) => r.endsWith(" etc"))).toMatch(/^drwxr-xr-x /);
  });

  it("extracts to the same bytes", () => {
    execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames"], { cwd: dir, input: archive });
    expect(readFileSync(path.join(dir, "etc/rc.sh"), "utf8")).toBe("#!/bin/busybox sh\necho hi\n");
    expect(readFileSync(path.join(dir, "etc/a"), "utf8")).toBe("x");
    expect([...readFileSync(path.join(dir, "bin/busybox"))]).toEqual([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]);
    expect(statSync(path.join(dir, "bin/busybox")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(path.join(dir, "init"))).toBe("bin/busybox");
  });

  it("is the same archive for the same entries (a stable cache)", () => {
    const again = cpioArchive([{ kind: "file", path: "etc/a", data: "x" }]);
    expect(again.equals(cpioArchive([{ kind: "file", path: "/etc/a", data: "x" }]))).toBe(true);
    expect(again.subarray(-124).toString("latin1")).toContain("TRAILER!!!");
  });
});
