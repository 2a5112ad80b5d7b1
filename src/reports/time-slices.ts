/**
 * A report window read slice after slice in time, so DuckDB reads only a slice's row
 * groups and sorts only its rows: slice i is [bounds[i], bounds[i + 1]) (epoch ms), cut
 * beforehand where the rows fall (see the declaration's `slices` SQL), so every slice
 * holds about the same rows and the memory of one does not depend on the hour it covers.
 * Slices are handed out in order, and up to `ahead` are being fetched while the consumer
 * formats and sends one. A slice sits in one or two row groups, which DuckDB scans on one
 * thread, so one slice at a time used one of the two cores (two ahead: 1.5× the rows/s of
 * the call detail CSV). A fetch that needs the slices before it done (a row number, say)
 * asks for one ahead. When the consumer stops early, the slices fetched ahead are awaited
 * and handed to `discard` (files to delete, say).
 */
export async function* timeSlices<T>(
  bounds: readonly number[],
  fetch: (lo: number, hi: number) => Promise<T>,
  discard: (slice: T) => void = () => undefined,
  ahead = 1,
): AsyncGenerator<T, void, undefined> {
  const queue: Promise<T>[] = [];
  let next = 0;
  const launch = () => {
    const slice = fetch(bounds[next], bounds[next + 1]);
    next++;
    // A failed prefetch is reported when its turn comes, not as an unhandled rejection.
    slice.catch(() => undefined);
    queue.push(slice);
  };
  const fill = () => {
    while (queue.length < ahead && next < bounds.length - 1) launch();
  };
  try {
    fill();
    while (queue.length > 0) {
      const slice = await queue[0];
      queue.shift();
      fill();
      yield slice;
    }
  } finally {
    for (const slice of queue.splice(0)) await slice.then(discard, () => undefined);
  }
}

/**
 * The bounds of the slices of [start, end) cut at `cuts` (ascending epoch ms, as the
 * `slices` SQL gives them): one slice when there is nothing to cut, never an empty one
 * from a cut outside the window.
 */
export function cutWindow(start: number, end: number, cuts: readonly number[]): number[] {
  return [start, ...cuts.filter((at) => at > start && at < end), end];
}
