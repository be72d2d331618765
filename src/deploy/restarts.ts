import { isActiveArgv, systemctlArgv } from "../hostkit/systemd.ts";
import type { DeployEvent, PendingRestart } from "./events.ts";

/** How the engine drives a unit; tests swap systemctl for harmless commands. */
export interface UnitControl {
  isActive(unit: string): string[];
  restart(unit: string): string[];
  reload(unit: string): string[];
  /** Makes the service manager read changed unit files. */
  daemonReload(): string[];
}

export const systemd: UnitControl = {
  isActive: (unit) => isActiveArgv(unit),
  restart: (unit) => systemctlArgv("restart", [unit]),
  reload: (unit) => systemctlArgv("reload-or-restart", [unit]),
  daemonReload: () => systemctlArgv("daemon-reload"),
};

/** Files whose change systemd only sees after a daemon-reload. */
export function isUnitFile(path: string): boolean {
  return /^\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\//.test(path);
}

/**
 * Restarts owed because a file changed. Journaled as they are scheduled and done, so a run that
 * dies between writing a file and restarting its daemon still restarts it on --resume (the file
 * compares equal by then, so nothing else would notice).
 */
export class RestartBook {
  readonly #pending = new Map<string, PendingRestart>();
  readonly #emit: (event: DeployEvent) => void;

  constructor(emit: (event: DeployEvent) => void, initial: readonly PendingRestart[] = []) {
    this.#emit = emit;
    for (const p of initial) this.#pending.set(`${p.host}/${p.service}`, { ...p });
  }

  add(host: string, service: string, restart: readonly string[], reload: readonly string[]): void {
    if (restart.length === 0 && reload.length === 0) return;
    const key = `${host}/${service}`;
    const p = this.#pending.get(key) ?? { host, service, restart: [], reload: [] };
    p.restart = [...new Set([...p.restart, ...restart])];
    // A unit that restarts needs no reload as well.
    p.reload = [...new Set([...p.reload, ...reload])].filter((u) => !p.restart.includes(u));
    this.#pending.set(key, p);
    this.#emit({ type: "restart-scheduled", ...p });
  }

  get(host: string, service: string): PendingRestart | undefined {
    return this.#pending.get(`${host}/${service}`);
  }

  clear(host: string, service: string): void {
    if (this.#pending.delete(`${host}/${service}`)) this.#emit({ type: "restart-done", host, service });
  }

  all(): PendingRestart[] {
    return [...this.#pending.values()];
  }
}
