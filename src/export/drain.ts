import type { Writable } from 'node:stream';

/**
 * Resolves when `w` asks for more (`drain`), or when `w` or the final destination
 * `out` can take no more (`close`, `error`: the client went away). Its listeners are
 * removed either way, so waiting once per chunk never piles them up.
 */
export function drained(w: Writable, out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const events: [Writable, string][] = [[w, 'drain'], [w, 'close'], [w, 'error'], [out, 'close'], [out, 'error']];
    const done = () => {
      for (const [s, e] of events) s.off(e, done);
      resolve();
    };
    for (const [s, e] of events) s.on(e, done);
  });
}
