import { describe, expect, it } from "vitest";
import { moduleName, planModules } from "./modules.ts";

// Lines as Debian 13's kernel writes them (modules.dep: a module, then what it needs).
const DEP = [
  "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz",
  "kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz",
  "kernel/net/core/failover.ko.xz:",
  "kernel/drivers/scsi/sr_mod.ko.xz: kernel/drivers/cdrom/cdrom.ko.xz",
  "kernel/drivers/cdrom/cdrom.ko.xz:",
  "kernel/fs/isofs/isofs.ko.xz:",
  "",
].join("\n");
const BUILTIN = ["kernel/drivers/block/virtio_blk.ko", "kernel/drivers/ata/ata_piix.ko", ""].join("\n");

describe("the initramfs's kernel modules", () => {
  it("loads dependencies first, each once, and skips built-in and absent optional modules", () => {
    const plan = planModules(DEP, BUILTIN, [
      { name: "virtio_net", required: true },
      { name: "virtio_blk", required: false },
      { name: "ata-piix", required: false },
      { name: "sr_mod", required: false },
      { name: "net_failover", required: false },
      { name: "isofs", required: false },
      { name: "ahci", required: false },
    ]);
    expect(plan.load).toEqual([
      "kernel/net/core/failover.ko.xz",
      "kernel/drivers/net/net_failover.ko.xz",
      "kernel/drivers/net/virtio_net.ko.xz",
      "kernel/drivers/cdrom/cdrom.ko.xz",
      "kernel/drivers/scsi/sr_mod.ko.xz",
      "kernel/fs/isofs/isofs.ko.xz",
    ]);
    expect(plan.builtin).toEqual(["virtio_blk", "ata_piix"]);
    expect(plan.missing).toEqual(["ahci"]);
  });

  it("fails when a required module is neither built in nor shipped", () => {
    expect(() => planModules(DEP, BUILTIN, [{ name: "e1000", required: true }])).toThrow(/no module e1000/);
  });

  it("names a module as modprobe does", () => {
    expect(moduleName("kernel/fs/nls/nls_cp437.ko.xz")).toBe("nls_cp437");
    expect(moduleName("kernel/drivers/ata/ata-piix.ko")).toBe("ata_piix");
  });
});
