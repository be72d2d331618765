/**
 * @module
 * Boots a disk under QEMU with TCG (never KVM: this machine's /dev/kvm runs only PVM guests, see
 * lab-feasibility-compute-vms-ovn) at the lowest CPU priority, and collects the serial console.
 * For tests and benches that prove the guest image boots without a cloud around it.
 */
import { spawn } from "node:child_process";
import { HastackError } from "../../util/errors.ts";

export interface TcgBootOptions {
  disk: string;
  format?: "qcow2" | "raw";
  /** @default 128 (the guest needs 80 MiB) */
  memoryMiB?: number;
  /** @default "q35" */
  machine?: "q35" | "pc";
  /** The NIC's -netdev, without its id: "user,hostfwd=..." */
  netdev: string;
  /** More QEMU arguments, e.g. a config drive (-cdrom FILE). */
  extra?: readonly string[];
  /** Writes reach `disk` (an overlay the caller made); without it they vanish with QEMU. */
  persist?: boolean;
  /** QEMU is killed past this; the result then says it did not stop by itself. */
  timeoutMs: number;
  /** Each console line as it arrives. */
  onLine?: (line: string) => void;
}

export interface TcgBoot {
  lines: string[];
  /** QEMU exited on its own (the guest powered off), before the timeout. */
  stoppedByItself: boolean;
  code: number | null;
  seconds: number;
}

export function qemuArgs(opts: TcgBootOptions): string[] {
  return [
    "-accel",
    // A smaller translation cache: a TCG guest's RSS is mostly this cache.
    "tcg,tb-size=32",
    "-machine",
    opts.machine ?? "q35",
    "-m",
    String(opts.memoryMiB ?? 128),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "stdio",
    // A power-off or a reboot ends QEMU: a guest stuck in a reboot loop cannot run forever.
    "-no-reboot",
    "-drive",
    `file=${opts.disk},if=virtio,format=${opts.format ?? "qcow2"},snapshot=${opts.persist ? "off" : "on"}`,
    "-netdev",
    `${opts.netdev},id=n0`,
    // No option ROM: the guest does not boot from the network, so iPXE is not needed.
    "-device",
    "virtio-net-pci,netdev=n0,romfile=",
    ...(opts.extra ?? []),
  ];
}

export function bootUnderTcg(opts: TcgBootOptions): Promise<TcgBoot> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn("nice", ["-n", "19", "qemu-system-x86_64", ...qemuArgs(opts)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let partial = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const raw of parts) {
        const line = raw.replace(/\r/g, "");
        lines.push(line);
        opts.onLine?.(line);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    // stdin stays open: the serial port's input, unused.
    child.stdin.on("error", () => {});
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(
        new HastackError("E_GUEST_BOOT", `Cannot start qemu-system-x86_64: ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (partial !== "") lines.push(partial.replace(/\r/g, ""));
      const seconds = (performance.now() - started) / 1000;
      if (!timedOut && code !== 0 && lines.length === 0) {
        reject(
          new HastackError(
            "E_GUEST_BOOT",
            `Cannot boot ${opts.disk} under QEMU: exit code ${code}: ${stderr.trim().slice(-400)}`,
          ),
        );
        return;
      }
      resolve({ lines, stoppedByItself: !timedOut, code, seconds });
    });
  });
}
