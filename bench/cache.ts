/**
 * Many viewers, one computation: 32 clients asking the same dashboard question at once,
 * answered from the result cache (goal: p95 under 5 ms at 1,000 requests/s or more), next
 * to the same load when every question is new (a distinct timezone offset each time, so
 * the cache never answers), in the same run.
 *   BENCH_CALLS=10000000 npx tsx bench/cache.ts   (on the store `npm run bench` left)
 */
import { spawn } from 'node:child_process';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { serveBench, whenRunAlone } from './serve.ts';

const CLIENTS = 32;

/**
 * `node -e LOADER BASE TOKEN CLIENTS SECONDS MODE`: the clients, in a process of their own
 * so only the server's work shares its event loop. Distinct questions vary the window's
 * first and last day, so none repeats within a run. Prints one JSON line.
 */
const LOADER = `
const [base, token, clients, seconds, mode] = process.argv.slice(1);
const zones = ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Tokyo'];
let n = 0, hits = 0;
const times = [];
const end = performance.now() + Number(seconds) * 1000;
const pad = (d) => String(d).padStart(2, '0');
const client = async () => {
  while (performance.now() < end) {
    const i = n++;
    const q = mode === 'repeated'
      ? 'date_from=2026-09-01&date_to=2026-11-23&timezone=America/New_York'
      : 'date_from=2026-09-' + pad(1 + (i % 28)) + '&date_to=2026-11-' + pad(1 + (Math.floor(i / 28) % 23)) + '&timezone=' + zones[Math.floor(i / 644) % 4];
    const t0 = performance.now();
    const res = await fetch(base + '/api/telesales/reports/dashboard?' + q + '&account_id=1', { headers: { authorization: 'Bearer ' + token } });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (res.headers.get('x-cache') === 'hit') hits++;
  }
};
const started = performance.now();
Promise.all(Array.from({ length: Number(clients) }, client)).then(() => {
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(p / 100 * times.length))];
  process.stdout.write(JSON.stringify({ rps: times.length / ((performance.now() - started) / 1000), p50: at(50), p95: at(95), hitPct: 100 * hits / times.length }) + '\\n');
});
`;

export async function cacheBench(store: Store, seconds = 5): Promise<void> {
  const { app, base, token, meta } = await serveBench(store, undefined, { cacheBytes: 64 * 2 ** 20 });
  console.log(`\nresult cache: ${CLIENTS} clients asking for ${seconds} s from another process (goal: repeated p95 under 5 ms at 1,000 requests/s or more):`);
  for (const mode of ['repeated', 'distinct'] as const) {
    const loader = spawn(process.execPath, ['-e', LOADER, base, token, String(CLIENTS), String(seconds), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    loader.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => loader.on('exit', r));
    const r = JSON.parse(out) as { rps: number; p50: number; p95: number; hitPct: number };
    console.log(`  ${mode.padEnd(9)} ${Math.round(r.rps).toLocaleString('en')} requests/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ${Math.round(r.hitPct)} % hits`);
    record(`cache.${mode}.requests_per_s`, r.rps);
    record(`cache.${mode}.p95_ms`, r.p95);
    record(`cache.${mode}.hit_pct`, r.hitPct);
  }
  await app.close();
  await meta.destroy();
}

await whenRunAlone(import.meta.url, (store) => cacheBench(store));
