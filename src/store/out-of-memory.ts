import { setTimeout as sleep } from 'node:timers/promises';

/**
 * DuckDB's "Out of Memory Error": a query needed more than the memory limit while others
 * held the rest (two exports at once under a small budget, say). It fails that query only;
 * the same query succeeds once the others have given their memory back.
 */
export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && /^Out of Memory Error/.test(err.message);
}

/** Waits before each retry (ms): 3.1 s in all, about fifteen slices of a concurrent export. */
export const OUT_OF_MEMORY_WAITS = [100, 200, 400, 800, 1600];

/**
 * Runs a read (a query, or a COPY to a file it overwrites), again after each wait of
 * `waits` while DuckDB answers it with an Out of Memory Error; then the error stands.
 */
export async function retryOutOfMemory<T>(read: () => Promise<T>, waits: readonly number[] = OUT_OF_MEMORY_WAITS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!isOutOfMemory(err) || attempt >= waits.length) throw err;
      await sleep(waits[attempt]);
    }
  }
}
