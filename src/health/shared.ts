/**
 * @module
 * The memo behind ProbeContext.shared: one promise per key for the life of one status run.
 * A rejected promise stays too, so every asker gets the same answer, as they would have if
 * each had asked at that moment.
 */
import type { ProbeContext } from "./types.ts";

export function sharedAnswers(): ProbeContext["shared"] {
  const answers = new Map<string, Promise<unknown>>();
  return function shared<T>(key: string, make: () => Promise<T>): Promise<T> {
    let answer = answers.get(key) as Promise<T> | undefined;
    if (!answer) {
      answer = make();
      answers.set(key, answer);
    }
    return answer;
  };
}
