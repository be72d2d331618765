/**
 * @module
 * Reads the checks of one run share: several steps ask a host the same question (every OpenStack
 * service's RabbitMQ user check lists the same users, and each rabbitmqctl starts an Erlang VM),
 * so the first asks and the others take its answer. An answer holds only while nothing changes:
 * no answer is kept across an apply (any step's, on any host), and none is stored or given out
 * while one runs. A failed read is not kept either: the next caller asks again.
 */

export type SharedRead = <T>(key: string, read: () => Promise<T>) => Promise<T>;

export interface SharedReads {
  get: SharedRead;
  /** Runs an apply: answers from before it are forgotten, none is shared while it runs. */
  applying<T>(fn: () => Promise<T>): Promise<T>;
}

interface Entry {
  generation: number;
  answer: Promise<unknown>;
}

export function sharedReads(): SharedReads {
  const entries = new Map<string, Entry>();
  let generation = 0;
  let applies = 0;
  return {
    get<T>(key: string, read: () => Promise<T>): Promise<T> {
      if (applies > 0) return read();
      const entry = entries.get(key);
      if (entry?.generation === generation) return entry.answer as Promise<T>;
      const answer = read();
      const mine: Entry = { generation, answer };
      entries.set(key, mine);
      answer.catch(() => {
        if (entries.get(key) === mine) entries.delete(key);
      });
      return answer;
    },
    async applying(fn) {
      applies++;
      generation++;
      try {
        return await fn();
      } finally {
        applies--;
        generation++;
      }
    },
  };
}

/** For a context outside a run (tests, tools): every read is asked. */
export const unshared: SharedRead = (_key, read) => read();
