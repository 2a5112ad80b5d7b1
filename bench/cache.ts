/**
 * Many viewers, one computation: 32 clients asking the same dashboard question at once,
 * answered from the result cache (goal: p95 under 5 ms at 1,000 requests/s or more), next
 * to the same load when every question is new (a distinct timezone offset each time, so
 * the cache never answers), in the same run.
 *   BENCH_CALLS=10000000 npx tsx bench/cache.ts   (on the store `npm run bench` left)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Store } from '../src/store/duckdb.ts';
import { record, writeResults } from './results.ts';
import { serveBench } from './serve.ts';

const CLIENTS = 32;
const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function cacheBench(store: Store, seconds = 5): Promise<void> {
  const { app, base, token, meta } = await serveBench(store);
  const zones = ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'America/Los_Angeles', 'Europe/London'];
  console.log(`\nresult cache: ${CLIENTS} clients asking for ${seconds} s (goal: repeated p95 under 5 ms at 1,000 requests/s or more):`);
  for (const mode of ['repeated', 'distinct'] as const) {
    let n = 0;
    let hits = 0;
    const times: number[] = [];
    const end = performance.now() + seconds * 1000;
    const client = async (c: number) => {
      while (performance.now() < end) {
        // Distinct questions: another day of the window each time, so no answer repeats.
        const day = String(1 + ((n + c) % 28)).padStart(2, '0');
        const q = mode === 'repeated' ? 'date_from=2026-09-01&date_to=2026-11-23&timezone=America/New_York' : `date_from=2026-09-${day}&date_to=2026-11-23&timezone=${zones[(n + c) % zones.length]}`;
        const t0 = performance.now();
        const res = await fetch(`${base}/api/telesales/reports/dashboard?${q}&account_id=1`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        times.push(performance.now() - t0);
        if (res.headers.get('x-cache') === 'hit') hits++;
        n++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    const rps = n / ((performance.now() - started) / 1000);
    console.log(`  ${mode.padEnd(9)} ${Math.round(rps).toLocaleString('en')} requests/s, p50 ${pctl(times, 50).toFixed(1)} ms, p95 ${pctl(times, 95).toFixed(1)} ms, ${Math.round((100 * hits) / n)} % hits`);
    record(`cache.${mode}.requests_per_s`, rps);
    record(`cache.${mode}.p95_ms`, pctl(times, 95));
    record(`cache.${mode}.hit_pct`, (100 * hits) / n);
  }
  await app.close();
  await meta.destroy();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const calls = Number(process.env.BENCH_CALLS ?? 10_000_000);
  const store = await Store.open(path.resolve('bench-data', `store-${calls}.duckdb`));
  await cacheBench(store);
  await store.close();
  console.log(`results: ${writeResults()}`);
}
