import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureGuestImage, type GuestImage } from "./build.ts";
import { bootUnderTcg } from "./qemu-boot.ts";

/**
 * The guest image, built for real from Debian packages (cached), booted under QEMU TCG on this
 * machine at nice 19. Each boot ends by itself: user-data asks the guest to power off, and
 * -no-reboot turns that into QEMU's exit; the timeout only bounds a broken guest.
 */
const BOOT_TIMEOUT_MS = 240_000;
const POWEROFF_USER_DATA = "#!/bin/sh\nhastack-guest-poweroff-after: 5\n";

function metaData(uuid: string, hostname: string): string {
  // Nova's shape: "name" also occurs in keys, which is why the guest reads uuid and hostname.
  return JSON.stringify({
    uuid,
    public_keys: { lab: "ssh-ed25519 AAAA lab" },
    keys: [{ name: "lab", type: "ssh", data: "ssh-ed25519 AAAA lab" }],
    hostname,
    name: hostname,
    launch_index: 0,
    availability_zone: "nova",
    project_id: "0123",
    devices: [],
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("the guest image", () => {
  let image: GuestImage;
  const work = mkdtempSync(path.join(tmpdir(), "hastack-guest-"));
  beforeAll(async () => {
    image = await ensureGuestImage({ onProgress: (line) => console.log(line) });
  }, 1_800_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("is a small qcow2 with the cloud kernel and the NIC's driver in its initramfs", () => {
    const header = Buffer.alloc(4);
    const fd = openSync(image.qcow2, "r");
    readSync(fd, header, 0, 4, 0);
    closeSync(fd);
    expect(header.toString("latin1")).toBe("QFI\xfb");
    expect(image.manifest.qcow2Bytes).toBeLessThan(40 * 1024 * 1024);
    expect(image.manifest.kernel).toMatch(/-cloud-amd64$/);
    const nic = [...image.manifest.modules.load, ...image.manifest.modules.builtin];
    expect(nic.some((m) => m.includes("virtio_net"))).toBe(true);
    console.log(
      `guest image: ${(image.manifest.qcow2Bytes / 1e6).toFixed(1)} MB qcow2, kernel ${image.manifest.kernel}`,
    );
  });

  it(
    "boots under TCG: a DHCP lease, its identity from the metadata service, HTTP on port 80, off when asked",
    async () => {
      const uuid = randomUUID();
      const asked: string[] = [];
      const metadata = createServer((req, res) => {
        asked.push(req.url ?? "");
        if (req.url === "/openstack/latest/meta_data.json") res.end(metaData(uuid, "guest-md"));
        else if (req.url === "/openstack/latest/user_data") res.end(POWEROFF_USER_DATA);
        else res.writeHead(404).end();
      });
      const metadataPort = await listen(metadata);
      const httpPort = await freePort();
      let page: Promise<string> | undefined;
      try {
        const boot = await bootUnderTcg({
          disk: image.qcow2,
          // Link-local like a cloud's: the guest reaches 169.254.169.254 on its own subnet, and
          // QEMU hands each of those connections to the test's metadata server.
          netdev: [
            // restrict=on: the guest reaches nothing but what the forwards below allow.
            "user",
            "restrict=on",
            "net=169.254.0.0/16",
            "host=169.254.0.2",
            "dhcpstart=169.254.0.15",
            `hostfwd=tcp:127.0.0.1:${httpPort}-:80`,
            `guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:${metadataPort}`,
          ].join(","),
          timeoutMs: BOOT_TIMEOUT_MS,
          onLine(line) {
            if (line.startsWith("hastack-guest: ready"))
              page = fetch(`http://127.0.0.1:${httpPort}/`).then((r) => r.text());
          },
        });
        const console_ = boot.lines.filter((l) => l.startsWith("hastack-guest:"));
        console.log(`metadata boot: ${boot.seconds.toFixed(1)} s to power-off\n${console_.join("\n")}`);
        expect(
          console_.some((l) => l.startsWith("hastack-guest: lease 169.254.0.15/16 on eth0 router none ")),
        ).toBe(true);
        expect(console_).toContain(
          `hastack-guest: ready uuid=${uuid} hostname=guest-md address=169.254.0.15 source=metadata`,
        );
        expect(asked).toContain("/openstack/latest/meta_data.json");
        expect(await page).toBe(`hastack-guest ${uuid} guest-md\n`);
        expect(console_).toContain("hastack-guest: powering off: user-data asked for it after 5 s");
        expect(boot.stoppedByItself).toBe(true);
        expect(boot.code).toBe(0);
      } finally {
        await new Promise((resolve) => metadata.close(resolve));
      }
    },
    BOOT_TIMEOUT_MS + 30_000,
  );

  it(
    "reads a config drive (iso9660 labelled config-2 on an IDE CD-ROM) as Nova makes one",
    async () => {
      const uuid = randomUUID();
      const tree = path.join(work, "config-drive");
      mkdirSync(path.join(tree, "openstack/latest"), { recursive: true });
      writeFileSync(path.join(tree, "openstack/latest/meta_data.json"), metaData(uuid, "guest-cd"));
      writeFileSync(path.join(tree, "openstack/latest/user_data"), POWEROFF_USER_DATA);
      const iso = path.join(work, "config-drive.iso");
      // Nova's own genisoimage flags (nova/virt/configdrive.py).
      execFileSync("genisoimage", [
        ...["-o", iso, "-ldots", "-allow-lowercase", "-allow-multidot", "-l"],
        ...["-publisher", "hastack", "-quiet", "-J", "-r", "-V", "config-2", tree],
      ]);
      const boot = await bootUnderTcg({
        disk: image.qcow2,
        machine: "pc",
        netdev: "user,restrict=on",
        extra: ["-drive", `file=${iso},media=cdrom,if=ide,readonly=on`],
        timeoutMs: BOOT_TIMEOUT_MS,
      });
      const console_ = boot.lines.filter((l) => l.startsWith("hastack-guest:"));
      console.log(`config-drive boot: ${boot.seconds.toFixed(1)} s to power-off\n${console_.join("\n")}`);
      expect(
        console_.some((l) => l.startsWith("hastack-guest: lease 10.0.2.15/24 on eth0 router none ")),
      ).toBe(true);
      expect(console_).toContain(
        `hastack-guest: ready uuid=${uuid} hostname=guest-cd address=10.0.2.15 source=config-drive`,
      );
      expect(boot.stoppedByItself).toBe(true);
    },
    BOOT_TIMEOUT_MS + 30_000,
  );

  it(
    "writes a disk marker on its first boot and finds it on the next boot from the same disk",
    async () => {
      // A copy of the cached image: the boots write to it, never to the image.
      const overlay = path.join(work, "marker.qcow2");
      copyFileSync(image.qcow2, overlay);
      const tree = path.join(work, "marker-drive");
      mkdirSync(path.join(tree, "openstack/latest"), { recursive: true });
      writeFileSync(path.join(tree, "openstack/latest/meta_data.json"), metaData(randomUUID(), "guest-mk"));
      writeFileSync(
        path.join(tree, "openstack/latest/user_data"),
        `${POWEROFF_USER_DATA}hastack-guest-disk-marker: tok-42\n`,
      );
      const iso = path.join(work, "marker-drive.iso");
      execFileSync("genisoimage", ["-o", iso, "-quiet", "-J", "-r", "-V", "config-2", tree]);
      const boot = () =>
        bootUnderTcg({
          disk: overlay,
          persist: true,
          machine: "pc",
          netdev: "user,restrict=on",
          extra: ["-drive", `file=${iso},media=cdrom,if=ide,readonly=on`],
          timeoutMs: BOOT_TIMEOUT_MS,
        });
      const said = (b: { lines: string[] }) =>
        b.lines.filter((l) => l.startsWith("hastack-guest: disk marker"));
      expect(said(await boot())).toEqual(["hastack-guest: disk marker written: tok-42"]);
      expect(said(await boot())).toEqual(["hastack-guest: disk marker found: tok-42"]);
    },
    2 * BOOT_TIMEOUT_MS + 30_000,
  );
});
