/**
 * @module
 * The compute-poweroff drill (issue #10 item 8): real VMs booted on one compute, each writing a
 * marker to its disk; the compute's plug pulled through its BMC (no word to hastack); then what
 * the engine does by itself, watched from outside as an operator would: when each VM is ACTIVE
 * on another compute, when each guest answers a ping there, whether its disk still holds its
 * marker, and, from the engine's history, when it detected the failure and when the fence was
 * confirmed. The compute is powered on again at the end: the engine must re-enable it, and no
 * domain may be left on it (a VM running twice). The servers and their network are deleted
 * whatever happened.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Osc } from "../../ops/smoke/osc.ts";
import { ServerShow, serverAddresses } from "../../ops/smoke/schemas.ts";
import type { Transport } from "../../transport/types.ts";
import type { StoredEvent } from "../store.ts";
import {
  type ComputePoweroffReport,
  fromHistory,
  secondsBetween,
  type VmOutcome,
  verdictOf,
} from "./report.ts";

export interface DrillDeps {
  /** The `openstack` client as the cloud's admin. */
  admin: Osc;
  transport: (host: string) => Transport;
  /** Powers a host on or off through its BMC (hard: the plug, not a shutdown). */
  power: (host: string, state: "on" | "off") => Promise<void>;
  /** The engine's history of a host since a time. */
  history: (host: string, since: Date) => Promise<StoredEvent[]>;
  /** Each timeline line as it happens. */
  log?: (line: string) => void;
}

export interface DrillOptions {
  host: string;
  vms: number;
  image: string;
  flavor: string;
  /** How long every VM has to be ACTIVE elsewhere before the drill gives up. @default 300_000 */
  evacuateTimeoutMs?: number;
}

const ServerRow = z.looseObject({
  ID: z.string(),
  Name: z.string(),
  Status: z.string(),
  Host: z.string().nullish(),
});
const ServiceRow = z.looseObject({ Status: z.string(), State: z.string() });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function computePoweroffDrill(deps: DrillDeps, o: DrillOptions): Promise<ComputePoweroffReport> {
  const { admin } = deps;
  const tag = `hadrill-${randomBytes(3).toString("hex")}`;
  const timeline: string[] = [];
  const problems: string[] = [];
  let off = new Date();
  const note = (line: string) => {
    const stamped = `${secondsBetween(off, new Date()).toFixed(1).padStart(6)} s  ${line}`;
    timeline.push(stamped);
    deps.log?.(stamped);
  };
  const vms: VmOutcome[] = [];
  const tokens = new Map<string, string>();
  try {
    const net = await admin.run(["network", "create", tag, "-f", "value", "-c", "id"]);
    const networkId = net.trim();
    await admin.run(["subnet", "create", "--network", tag, "--subnet-range", "192.168.79.0/24", tag]);
    // The default group lets nothing in: the ping that shows a guest answers needs ICMP.
    await admin.run(["security", "group", "create", tag]);
    await admin.run(["security", "group", "rule", "create", "--ingress", "--protocol", "icmp", tag]);
    // Each server's user-data asks its guest for a disk marker of its own (lab guest's rc.sh).
    const client = admin.transport;
    for (let i = 1; i <= o.vms; i++) {
      const token = `${tag}-${i}`;
      const file = `/tmp/${token}.user-data`;
      await client.writeFile(file, `#!/bin/sh\nhastack-guest-disk-marker: ${token}\n`, {
        owner: "root",
        group: "root",
        mode: 0o600,
      });
      const id = (
        await admin.run([
          ...["server", "create", "--availability-zone", `nova:${o.host}`, "--image", o.image],
          ...["--flavor", o.flavor, "--network", tag, "--security-group", tag, "--user-data", file, token],
          ...["-f", "value", "-c", "id"],
        ])
      ).trim();
      tokens.set(id, token);
      vms.push({ id, name: token, diskIntact: false });
    }
    await waitFor(`${o.vms} server(s) ACTIVE on ${o.host}`, 300_000, async () => {
      const rows = await serverRows(admin, tag);
      if (rows.some((r) => r.Status === "ERROR")) throw new Error(`a server went to ERROR on ${o.host}`);
      return rows.filter((r) => r.Status === "ACTIVE").length === o.vms;
    });
    // The marker must be on the disk before the plug is pulled.
    for (const vm of vms)
      await waitFor(`the disk marker of ${vm.name}`, 300_000, async () =>
        (await consoleLog(deps, o.host, vm.id)).includes(`disk marker written: ${tokens.get(vm.id)}`),
      );

    off = new Date();
    await deps.power(o.host, "off");
    note(`${o.host} powered off through its BMC`);
    const deadline = Date.now() + (o.evacuateTimeoutMs ?? 300_000);
    while (Date.now() < deadline && vms.some((v) => v.activeS === undefined)) {
      const rows = await serverRows(admin, tag);
      for (const row of rows) {
        const vm = vms.find((v) => v.id === row.ID);
        // `--long`'s Host is the hypervisor's name (cmp2.example.org): Nova's host is its first label.
        const to = row.Host?.split(".")[0];
        if (vm && vm.activeS === undefined && row.Status === "ACTIVE" && to && to !== o.host) {
          vm.activeS = secondsBetween(off, new Date());
          vm.to = to;
          note(`${vm.name} ACTIVE on ${to}`);
        }
      }
      await sleep(1000);
    }
    for (const vm of vms.filter((v) => v.activeS === undefined))
      problems.push(`${vm.name} (${vm.id}) was not ACTIVE on another compute within the drill's wait`);

    await Promise.all(vms.filter((v) => v.to).map((vm) => guestAnswers(deps, vm, networkId, off, note)));
    for (const vm of vms.filter((v) => v.to)) {
      const token = tokens.get(vm.id);
      // The guest reads its disk right after boot: give a slow TCG boot its time.
      vm.diskIntact = await waitFor(`the disk marker of ${vm.name} on ${vm.to}`, 120_000, async () =>
        (await consoleLog(deps, vm.to as string, vm.id)).includes(`disk marker found: ${token}`),
      ).then(
        () => true,
        () => false,
      );
      if (!vm.diskIntact) problems.push(`${vm.name}: its disk marker was not found after the evacuation`);
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }

  const history = fromHistory(
    off,
    await deps.history(o.host, new Date(off.getTime() - 1000)).catch(() => []),
  );
  let reenabledS: number | undefined;
  let heldDisabled = false;
  let leftovers: number | undefined;
  try {
    const on = new Date();
    await deps.power(o.host, "on");
    await waitFor(`${o.host} answering again`, 240_000, async () =>
      deps
        .transport(o.host)
        .exec(["true"], { timeoutMs: 5000 })
        .then(
          (r) => r.code === 0,
          () => false,
        ),
    );
    // Re-enabled by the engine, or held disabled by it on purpose: a host that fails again
    // within the re-flap window stays disabled (a drill repeated within the hour meets this),
    // and the drill then enables it itself, as the operator would, to leave the site as found.
    let held = false;
    await waitFor(
      `nova-compute on ${o.host} re-enabled (or held disabled) by the engine`,
      300_000,
      async () => {
        const rows = await admin.json(
          ["compute", "service", "list", "--service", "nova-compute", "--host", o.host],
          z.array(ServiceRow),
        );
        if (rows.length > 0 && rows.every((r) => r.Status === "enabled" && r.State === "up")) return true;
        const since = new Date(on.getTime() - 1000);
        held = (await deps.history(o.host, since).catch(() => [])).some(
          (e) => e.kind === "operator" && /left disabled/.test(e.detail),
        );
        return held;
      },
    );
    if (held) {
      heldDisabled = true;
      note(
        `${o.host} back, held disabled by the engine (it failed again within the re-flap window): enabling it`,
      );
      await admin.run(["compute", "service", "set", "--enable", o.host, "nova-compute"]);
    } else reenabledS = secondsBetween(on, new Date());
    const listed = await deps
      .transport(o.host)
      .exec(["sh", "-c", "virsh -c qemu:///system list --all --name | grep -c . || true"]);
    leftovers = Number(listed.stdout.trim());
    if (leftovers !== 0) problems.push(`${leftovers} domain(s) left on ${o.host} after it came back`);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    await cleanup(admin, tag);
  }

  const active = vms.map((v) => v.activeS);
  const answering = vms.map((v) => v.answeringS);
  const all = (xs: (number | undefined)[]) =>
    xs.length > 0 && xs.every((x) => x !== undefined) ? Math.max(...(xs as number[])) : undefined;
  if (history.detectedS === undefined) problems.push(`the engine's history has no failure of ${o.host}`);
  if (history.fencedS === undefined)
    problems.push(`the engine's history has no confirmed fence of ${o.host}`);
  const firstActive = Math.min(...active.filter((x): x is number => x !== undefined));
  if (history.fencedS !== undefined && firstActive < history.fencedS)
    problems.push(
      `a VM was ACTIVE elsewhere (${firstActive} s) before the fence was confirmed (${history.fencedS} s)`,
    );
  const report = {
    drill: "compute-poweroff" as const,
    host: o.host,
    vms,
    offAt: off.toISOString(),
    ...(history.detectedS === undefined ? {} : { detectedS: history.detectedS }),
    ...(history.fencedS === undefined ? {} : { fencedS: history.fencedS }),
    ...(history.fenceMethod === undefined ? {} : { fenceMethod: history.fenceMethod }),
    ...(all(active) === undefined ? {} : { allActiveS: all(active) }),
    ...(all(answering) === undefined ? {} : { allAnsweringS: all(answering) }),
    ...(reenabledS === undefined ? {} : { reenabledS }),
    heldDisabled,
    ...(leftovers === undefined ? {} : { leftovers }),
    timeline: mergeTimelines(history.lines, timeline),
    problems,
  };
  return { ...report, verdict: verdictOf(report) };
}

/** The engine's lines and the drill's, in time order (both start with "<seconds> s"). */
function mergeTimelines(a: readonly string[], b: readonly string[]): string[] {
  return [...a, ...b].sort((x, y) => Number.parseFloat(x) - Number.parseFloat(y));
}

async function serverRows(admin: Osc, tag: string) {
  return admin.json(
    [
      "server",
      "list",
      "--all-projects",
      "--long",
      "--name",
      `^${tag}-`,
      "-c",
      "ID",
      "-c",
      "Name",
      "-c",
      "Status",
      "-c",
      "Host",
    ],
    z.array(ServerRow),
  );
}

/**
 * The guest's serial console as libvirt writes it on its compute (Nova's instances_path): read
 * there rather than through `openstack console log show`, which took 20 s a call on the lab.
 */
async function consoleLog(deps: DrillDeps, host: string, id: string): Promise<string> {
  const r = await deps.transport(host).exec(["cat", `/var/lib/nova/instances/${id}/console.log`], {
    timeoutMs: 20_000,
  });
  return r.code === 0 ? r.stdout : "";
}

/** A ping from the guest's new compute, in OVN's metadata namespace of its network there. */
async function guestAnswers(
  deps: DrillDeps,
  vm: VmOutcome,
  networkId: string,
  off: Date,
  note: (line: string) => void,
): Promise<void> {
  const show = await deps.admin.json(["server", "show", vm.id], ServerShow);
  const ip = serverAddresses(show)[0];
  if (!ip || !vm.to) return;
  const t = deps.transport(vm.to);
  const ns = `ovnmeta-${networkId}`;
  const answered = await waitFor(`${vm.name} answering at ${ip}`, 180_000, async () =>
    t.exec(["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", ip], { timeoutMs: 10_000 }).then(
      (r) => r.code === 0,
      () => false,
    ),
  ).then(
    () => true,
    () => false,
  );
  if (!answered) return;
  vm.answeringS = secondsBetween(off, new Date());
  note(`${vm.name} answers a ping at ${ip} on ${vm.to}`);
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`Cannot see ${what}: not within ${Math.round(ms / 1000)} s`);
    await sleep(1000);
  }
}

async function cleanup(admin: Osc, tag: string): Promise<void> {
  const rows = await serverRows(admin, tag).catch(() => []);
  if (rows.length > 0) await admin.attempt(["server", "delete", "--wait", ...rows.map((r) => r.ID)], 300_000);
  await admin.attempt(["subnet", "delete", tag]);
  await admin.attempt(["network", "delete", tag]);
  await admin.attempt(["security", "group", "delete", tag]);
}
