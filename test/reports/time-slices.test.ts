import t from 'tap';
import { cutWindow, timeSlices } from '../../src/reports/time-slices.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 1);

/** A fake store: each fetch resolves a millisecond later (`fail` at the k-th fetch). */
function fakeFetch(fail = -1) {
  const fetched: { lo: number; hi: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (lo: number, hi: number) => {
    const k = fetched.length;
    fetched.push({ lo, hi });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, k === fail ? 0 : 2));
    inFlight--;
    if (k === fail) throw new Error('store failed');
    return { lo, hi };
  };
  return { fetch, fetched, maxInFlight: () => maxInFlight };
}

const hours = (n: number) => Array.from({ length: n + 1 }, (_, i) => START + i * HOUR);

for (const ahead of [1, 2, 3]) {
  t.test(`${ahead} ahead: each slice fetched once, handed out in order`, async (t) => {
    const f = fakeFetch();
    const got: { lo: number; hi: number }[] = [];
    for await (const s of timeSlices(hours(10), f.fetch, () => undefined, ahead)) got.push(s);
    t.same(got, hours(10).slice(0, -1).map((lo) => ({ lo, hi: lo + HOUR })));
    t.equal(f.fetched.length, 10, 'nothing fetched twice or left over');
    t.equal(f.maxInFlight(), ahead, `${ahead} in flight, never more`);
  });

  t.test(`${ahead} ahead: a consumer that stops gets every fetched slice discarded or handed out`, async (t) => {
    const f = fakeFetch();
    const discarded: number[] = [];
    const handed: number[] = [];
    for await (const s of timeSlices(hours(30), f.fetch, (s) => discarded.push(s.lo), ahead)) {
      handed.push(s.lo);
      if (handed.length === 3) break;
    }
    t.same([...handed, ...discarded].sort(), f.fetched.map((x) => x.lo).sort(), 'each fetched slice handed out or discarded, once');
    t.equal(discarded.length, ahead, `the ${ahead} fetched ahead are discarded`);
  });
}

t.test('a failed slice fails the iteration when its turn comes, after the ones before it', async (t) => {
  const f = fakeFetch(2);
  const got: number[] = [];
  await t.rejects(async () => {
    for await (const s of timeSlices(hours(48), f.fetch, () => undefined, 2)) got.push(s.lo);
  }, /store failed/);
  t.equal(got.length, 2, 'the two slices before the failed one were handed out');
});

t.test('a window without rows is still one slice', async (t) => {
  const f = fakeFetch();
  const got: unknown[] = [];
  for await (const s of timeSlices(cutWindow(START, START + HOUR, []), f.fetch)) got.push(s);
  t.same(got, [{ lo: START, hi: START + HOUR }]);
});

t.test('slice bounds keep the cuts inside the window only', async (t) => {
  t.same(cutWindow(START, START + 3 * HOUR, [START - HOUR, START, START + HOUR, START + 3 * HOUR, START + 4 * HOUR]), [START, START + HOUR, START + 3 * HOUR]);
});
