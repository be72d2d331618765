/**
 * @module
 * The reverse of an evacuation's Nova side, when the host is back: unset force_down, wait until
 * Nova hears the host's nova-compute again (`state: up`), then enable it. Enabling before `up`
 * would let the scheduler pick a host whose compute is not running yet.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { ComputeService, Nova } from "../openstack/nova.ts";
import { NovaError } from "../openstack/nova.ts";
import { HastackError } from "../util/errors.ts";
import { DISABLED_BY } from "./evacuate.ts";

export const ReenableSettings = z.strictObject({
  up_timeout_s: z
    .int()
    .min(1)
    .default(120)
    .describe("how long a returned host's nova-compute has to report up before re-enable gives up"),
  poll_ms: z.int().min(10).default(2000).describe("how often the service is read while waiting"),
});
export type ReenableSettings = z.output<typeof ReenableSettings>;

export type ReenableProgress =
  | { kind: "service-forced-up"; host: string; serviceId: string }
  | { kind: "service-up"; host: string; serviceId: string }
  | { kind: "service-enabled"; host: string; serviceId: string }
  | { kind: "service-left-disabled"; host: string; serviceId: string; reason: string };

export interface ReenableInput {
  host: string;
  nova: Nova;
  /** Unset force_down and wait for up, but leave the service disabled (the operator enables it). */
  leaveDisabled?: boolean;
  settings?: z.input<typeof ReenableSettings>;
  onProgress?: (event: ReenableProgress) => void;
}

export interface ReenableReport {
  host: string;
  /** The services enabled by this call; those left disabled are in `leftDisabled` with why. */
  enabled: string[];
  leftDisabled: { serviceId: string; reason: string }[];
  seconds: number;
}

/** Throws E_HA_REENABLE when force_down cannot be unset or the service does not come up in time. */
export async function reenableHost(input: ReenableInput): Promise<ReenableReport> {
  const settings = ReenableSettings.parse(input.settings ?? {});
  const emit = input.onProgress ?? (() => {});
  const started = performance.now();
  const deadline = started + settings.up_timeout_s * 1000;
  const fail = (why: string, cause?: unknown): never => {
    throw new HastackError("E_HA_REENABLE", `Cannot re-enable nova-compute on ${input.host}: ${why}`, {
      ...(cause === undefined ? {} : { cause }),
    });
  };
  const services = await input.nova
    .computeServices(input.host)
    .catch((cause: unknown) => fail(words(cause), cause));
  if (services.length === 0) fail("Nova has no nova-compute service there");

  const report: ReenableReport = { host: input.host, enabled: [], leftDisabled: [], seconds: 0 };
  for (const service of services) {
    const id = service.id;
    if (service.forced_down) {
      await forceUp(input.nova, id, deadline, settings.poll_ms).catch((cause: unknown) =>
        fail(
          `${words(cause)}${/evacuation/.test(words(cause)) ? ` (nova-compute cleans up evacuated instances only when it starts: a host back before its evacuations were done needs \`systemctl restart nova-compute\` on ${input.host})` : ""}`,
          cause,
        ),
      );
      emit({ kind: "service-forced-up", host: input.host, serviceId: id });
    }
    const up = await waitUp(input.nova, input.host, id, deadline, settings.poll_ms);
    if (!up) fail(`the service did not report up within ${settings.up_timeout_s} s`);
    emit({ kind: "service-up", host: input.host, serviceId: id });
    const reason = keepDisabled(service, input.leaveDisabled === true);
    if (reason) {
      report.leftDisabled.push({ serviceId: id, reason });
      emit({ kind: "service-left-disabled", host: input.host, serviceId: id, reason });
      continue;
    }
    if (service.status === "disabled") {
      await input.nova.enableService(id).catch((cause: unknown) => fail(words(cause), cause));
      emit({ kind: "service-enabled", host: input.host, serviceId: id });
    }
    report.enabled.push(id);
  }
  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  return report;
}

function keepDisabled(service: ComputeService, leaveDisabled: boolean): string | undefined {
  if (service.status !== "disabled") return undefined;
  if (leaveDisabled) return "asked to leave it disabled";
  // An operator's disable (maintenance, a broken host) is theirs to undo, not the engine's.
  if (!service.disabled_reason?.startsWith(DISABLED_BY))
    return `disabled by someone else: ${service.disabled_reason ?? "no reason given"}`;
  return undefined;
}

/**
 * Nova refuses (400) to unset force_down while 'done' evacuation migrations remain for the host,
 * until its restarted nova-compute has cleaned them up (0 to 7.4 s on the feasibility lab, 6.5):
 * a 400 is tried again until the deadline.
 */
async function forceUp(nova: Nova, id: string, deadline: number, pollMs: number): Promise<void> {
  for (;;) {
    try {
      await nova.forceDown(id, false);
      return;
    } catch (error) {
      if (!(error instanceof NovaError) || error.status !== 400 || performance.now() >= deadline) throw error;
    }
    await sleep(pollMs);
  }
}

async function waitUp(
  nova: Nova,
  host: string,
  id: string,
  deadline: number,
  pollMs: number,
): Promise<boolean> {
  for (;;) {
    const now = await nova.computeServices(host).catch(() => []);
    if (now.some((s) => s.id === id && s.state === "up")) return true;
    if (performance.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

function words(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
