import t from 'tap';
import { timeSlices } from '../../src/reports/time-slices.ts';

const HOUR = 3_600_000;

/** A fake store: `rowsPerHour` rows evenly in time; each fetch resolves when `release` says. */
function fakeFetch(rowsPerHour: number) {
  const fetched: { lo: number; hi: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (lo: number, hi: number) => {
    fetched.push({ lo, hi });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return { lo, hi, rows: Math.round(((hi - lo) / HOUR) * rowsPerHour) };
  };
  return { fetch, fetched, maxInFlight: () => maxInFlight };
}

for (const ahead of [1, 2, 3]) {
  t.test(`${ahead} ahead: the slices tile the window in order, sized towards the target`, async (t) => {
    const f = fakeFetch(1_000);
    const start = Date.UTC(2026, 10, 1);
    const end = start + 90 * 24 * HOUR;
    const got: { lo: number; hi: number; rows: number }[] = [];
    for await (const s of timeSlices(start, end, 5_000, f.fetch, (s) => s.rows, () => undefined, ahead)) got.push(s);
    t.equal(got[0].lo, start);
    t.equal(got[got.length - 1].hi, end);
    const gap = got.findIndex((s, i) => i > 0 && s.lo !== got[i - 1].hi);
    t.equal(gap, -1, 'each slice starts where the one before it ends');
    t.equal(f.fetched.length, got.length, 'nothing fetched twice or left over');
    t.ok(f.maxInFlight() <= ahead, `at most ${ahead} in flight (${f.maxInFlight()})`);
    if (ahead > 1) t.equal(f.maxInFlight(), ahead, 'and that many once the density is known');
    // After the first hour (1,000 rows) each slice grows at most 8×, towards 5 hours.
    t.same(got.slice(1, 4).map((s) => (s.hi - s.lo) / HOUR), [5, 5, 5].slice(0, Math.min(3, got.length - 1)));
  });

  t.test(`${ahead} ahead: a consumer that stops gets every fetched slice discarded or handed out`, async (t) => {
    const f = fakeFetch(1_000);
    const start = Date.UTC(2026, 10, 1);
    const discarded: number[] = [];
    const handed: number[] = [];
    for await (const s of timeSlices(start, start + 30 * 24 * HOUR, 5_000, f.fetch, (s) => s.rows, (s) => discarded.push(s.lo), ahead)) {
      handed.push(s.lo);
      if (handed.length === 3) break;
    }
    t.same([...handed, ...discarded].sort(), f.fetched.map((x) => x.lo).sort(), 'each fetched slice handed out or discarded, once');
    t.equal(discarded.length, ahead, `the ${ahead} fetched ahead are discarded`);
  });
}

t.test('a failed slice fails the iteration when its turn comes, after the ones before it', async (t) => {
  const start = Date.UTC(2026, 10, 1);
  let n = 0;
  const fetch = async (lo: number, hi: number) => {
    const k = n++;
    await new Promise((r) => setTimeout(r, k === 2 ? 0 : 5));
    if (k === 2) throw new Error('store failed');
    return { lo, hi, rows: 1_000 };
  };
  const got: number[] = [];
  await t.rejects(async () => {
    for await (const s of timeSlices(start, start + 48 * HOUR, 1_000, fetch, (s) => s.rows, () => undefined, 2)) got.push(s.lo);
  }, /store failed/);
  t.equal(got.length, 2, 'the two slices before the failed one were handed out');
});
