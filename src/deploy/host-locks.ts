/**
 * @module
 * One readers-writer lock per host for the runner: checks share a host, an apply has it alone
 * (apt, dpkg and systemctl do not like company, and a check must not read a half-applied state).
 * Waiters are served in arrival order, a run of readers together, so a waiting apply is not
 * starved by checks that keep arriving, and checks are not starved by a queue of applies.
 */

export type Release = () => void;

export interface HostLocks {
  /** Whether a read would be granted now: nobody writes or waits to write. */
  readable(host: string): boolean;
  read(host: string): Promise<Release>;
  write(host: string): Promise<Release>;
}

interface Waiter {
  mode: "read" | "write";
  grant(): void;
}

interface State {
  readers: number;
  writer: boolean;
  queue: Waiter[];
}

/** `onRelease` runs after every release: whoever schedules work may start more. */
export function hostLocks(onRelease: () => void = () => {}): HostLocks {
  const states = new Map<string, State>();
  function state(host: string): State {
    let s = states.get(host);
    if (!s) {
      s = { readers: 0, writer: false, queue: [] };
      states.set(host, s);
    }
    return s;
  }
  function serve(s: State): void {
    for (let next = s.queue[0]; next && !s.writer; next = s.queue[0]) {
      if (next.mode === "write" && s.readers > 0) return;
      s.queue.shift();
      if (next.mode === "write") s.writer = true;
      else s.readers++;
      next.grant();
    }
  }
  function acquire(host: string, mode: Waiter["mode"]): Promise<Release> {
    const s = state(host);
    return new Promise((resolve) => {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        if (mode === "write") s.writer = false;
        else s.readers--;
        serve(s);
        onRelease();
      };
      s.queue.push({ mode, grant: () => resolve(release) });
      serve(s);
    });
  }
  return {
    readable(host) {
      const s = state(host);
      return !s.writer && s.queue.length === 0;
    },
    read: (host) => acquire(host, "read"),
    write: (host) => acquire(host, "write"),
  };
}
