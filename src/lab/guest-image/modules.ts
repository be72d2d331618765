/**
 * @module
 * Which kernel module files the initramfs needs, in load order, from the kernel's own
 * modules.dep and modules.builtin (busybox insmod does not resolve dependencies).
 */
import { HastackError } from "../../util/errors.ts";

export interface WantedModule {
  name: string;
  /** A required module the kernel neither builds in nor ships fails the build. */
  required: boolean;
}

export interface ModulePlan {
  /** Paths relative to /lib/modules/<version>, dependencies before their users. */
  load: string[];
  /** Wanted modules the kernel builds in (nothing to load). */
  builtin: string[];
  /** Optional modules this kernel does not have. */
  missing: string[];
}

/** "kernel/drivers/net/virtio_net.ko.xz" -> "virtio_net" (modprobe treats - and _ alike). */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, "").replaceAll("-", "_");
}

export function planModules(
  modulesDep: string,
  modulesBuiltin: string,
  wanted: readonly WantedModule[],
): ModulePlan {
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const needs = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((d) => d !== "");
    deps.set(moduleName(path), { path, deps: needs });
  }
  const builtins = new Set(
    modulesBuiltin
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .map(moduleName),
  );
  const plan: ModulePlan = { load: [], builtin: [], missing: [] };
  const visit = (name: string, chain: string[]): void => {
    const entry = deps.get(name);
    if (entry === undefined || plan.load.includes(entry.path)) return;
    if (chain.includes(name))
      throw new HastackError(
        "E_GUEST_IMAGE",
        `Cannot order kernel modules: ${[...chain, name].join(" -> ")} is a cycle`,
      );
    for (const dep of entry.deps) visit(moduleName(dep), [...chain, name]);
    plan.load.push(entry.path);
  };
  for (const want of wanted) {
    const name = moduleName(want.name);
    if (deps.has(name)) visit(name, []);
    else if (builtins.has(name)) plan.builtin.push(name);
    else if (want.required)
      throw new HastackError(
        "E_GUEST_IMAGE",
        `Cannot build the guest image: the kernel has no module ${name}, neither built in nor in modules.dep`,
      );
    else plan.missing.push(name);
  }
  return plan;
}
