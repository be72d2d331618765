import { show, systemctl } from "../../hostkit/systemd.ts";
import type { StepContext, StepSpec } from "../types.ts";
import { sysctlConfig } from "./files.ts";

interface KernelView {
  /** Settings the kernel has that differ from the wanted value. */
  differ: [key: string, have: string, want: string][];
  /** Settings the kernel does not have at all (br_netfilter absent: built out, or a container). */
  absent: string[];
  /** br_netfilter can be loaded here (a real host with modules); false in the lab's containers. */
  loadable: boolean;
}

async function kernelView(ctx: StepContext): Promise<KernelView> {
  const wanted = sysctlConfig(ctx.host).sections.flatMap((s) => s.entries) as [string, string][];
  const paths = wanted.map(([k]) => `/proc/sys/${k.replace(/\./g, "/")}`);
  // One round trip: "path=value", or "path=" with nothing when the kernel lacks the key.
  const script = `for p in "$@"; do if [ -e "$p" ]; then printf '%s=%s\\n' "$p" "$(cat "$p")"; else printf '%s=\\n' "$p"; fi; done
modprobe -n -q br_netfilter 2>/dev/null && echo loadable=yes || echo loadable=no`;
  const r = await ctx.run(["sh", "-c", script, "sh", ...paths]);
  const seen = new Map(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
  );
  const view: KernelView = { differ: [], absent: [], loadable: seen.get("loadable") === "yes" };
  wanted.forEach(([key, want], i) => {
    const have = seen.get(paths[i] as string) ?? "";
    if (have === "") view.absent.push(key);
    else if (have.trim() !== want) view.differ.push([key, have.trim(), want]);
  });
  return view;
}

/**
 * Applies what the kernel has. A key the kernel lacks is reported, not failed: in a container
 * without br_netfilter there is nothing to set, and on a real host modprobe makes it appear (so
 * the check fails there until it is loaded).
 */
const kernel: StepSpec = {
  id: "kernel",
  title: "Load br_netfilter where the kernel has it and apply the sysctls",
  on: "each",
  after: ["files"],
  async check(ctx) {
    const v = await kernelView(ctx);
    if (v.absent.length > 0 && !v.loadable)
      ctx.log.warn(`the kernel lacks ${v.absent.join(", ")} (no br_netfilter here): not applied`);
    return v.differ.length === 0 && (v.absent.length === 0 || !v.loadable);
  },
  async apply(ctx) {
    const v = await kernelView(ctx);
    if (v.absent.length > 0 && v.loadable) await ctx.run(["modprobe", "br_netfilter"]);
    // -e: keys this kernel lacks are skipped; the re-check reports them.
    await ctx.run(["sysctl", "-q", "-e", "-p", "/etc/sysctl.d/60-hastack.conf"]);
    ctx.log.info(`set ${v.differ.map(([k, have, want]) => `${k} ${have} -> ${want}`).join(", ")}`);
  },
};

/**
 * chrony enabled and started. Where the host may not set the clock (a container without
 * CAP_SYS_TIME) the unit's ConditionCapability skips it: systemd then reports it inactive with
 * ConditionResult=no, which is the correct state there (the host's clock is the parent's).
 */
async function chronyState(ctx: StepContext): Promise<"running" | "skipped" | "stopped" | "disabled"> {
  const p = await show(ctx.transport, "chrony.service", ["ActiveState", "ConditionResult", "UnitFileState"]);
  if (p.UnitFileState !== "enabled") return "disabled";
  if (p.ActiveState === "active") return "running";
  // ConditionResult is "no" only after systemd tried to start it and the condition said no.
  return p.ConditionResult === "no" ? "skipped" : "stopped";
}

const time: StepSpec = {
  id: "time",
  title: "Enable and start chrony (skipped by systemd where the clock cannot be set)",
  on: "each",
  after: ["files"],
  async check(ctx) {
    const state = await chronyState(ctx);
    if (state === "skipped")
      ctx.log.warn(
        "chrony is skipped by systemd (no CAP_SYS_TIME: a container); the host follows its parent's clock",
      );
    return state === "running" || state === "skipped";
  },
  async apply(ctx) {
    await systemctl(ctx.transport, "unmask", ["chrony.service"]);
    await systemctl(ctx.transport, "enable", ["chrony.service"], { now: true, signal: ctx.signal });
  },
};

export function hostPrepSteps(): StepSpec[] {
  return [
    { id: "files", title: "Write /etc/hosts, sysctl, modules-load and chrony.conf", on: "each" },
    kernel,
    time,
  ];
}
