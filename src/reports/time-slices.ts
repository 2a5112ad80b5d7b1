/**
 * A report window [start, end) (epoch ms) read slice after slice in time, so DuckDB reads
 * only a slice's row groups and sorts only its rows. The first slice is an hour; each next
 * one is sized from the rows the latest finished slice held, aiming at `target` rows, at
 * most 8× longer or shorter. Slices are handed out in order, and up to `ahead` are being
 * fetched while the consumer formats and sends one. A slice sits in one or two row groups,
 * which DuckDB scans on one thread, so one slice at a time used one of the two cores (two
 * ahead: 1.5× the rows/s of the call detail CSV). A fetch that needs the slices before it
 * done (a row number, say) asks for one ahead. When the consumer stops early, the slices
 * fetched ahead are awaited and handed to `discard` (files to delete, say).
 */
export async function* timeSlices<T>(
  start: number, end: number, target: number,
  fetch: (lo: number, hi: number) => Promise<T>, rowsOf: (slice: T) => number,
  discard: (slice: T) => void = () => undefined,
  ahead = 1,
): AsyncGenerator<T, void, undefined> {
  const queue: { slice: Promise<T>; span: number }[] = [];
  let lo = start;
  const launch = (span: number) => {
    const hi = Math.min(end, lo + span);
    const slice = fetch(lo, hi);
    // A failed prefetch is reported when its turn comes, not as an unhandled rejection.
    slice.catch(() => undefined);
    queue.push({ slice, span: hi - lo });
    lo = hi;
  };
  launch(3_600_000);
  try {
    while (queue.length > 0) {
      const { slice: pending, span: last } = queue[0];
      const slice = await pending;
      queue.shift();
      const span = Math.max(1_000, Math.round(Math.min(last * 8, Math.max(last / 8, (last * target) / Math.max(rowsOf(slice), 1)))));
      while (queue.length < ahead && lo < end) launch(span);
      yield slice;
    }
  } finally {
    for (const { slice } of queue.splice(0)) await slice.then(discard, () => undefined);
  }
}
