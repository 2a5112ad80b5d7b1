/**
 * Many viewers, one computation: 32 clients asking the same dashboard question, answered
 * from the result cache. Goal: p95 under 5 ms at 1,000 requests/s or more. Measured two
 * ways in the same run: paced, the 32 clients together sending 1,000 requests/s on a fixed
 * schedule (latency from each request's scheduled time, so a late server is not hidden by
 * clients that wait for it), and flat out, each client sending its next request as soon as
 * the last is answered (the most the server answers: there, by Little's law, latency is
 * 32 ÷ throughput). Next to them, the same load when every question is new (a distinct
 * window each time, so the cache never answers). The first 3 s of each load warm it up
 * and are not counted.
 *   BENCH_CALLS=10000000 npx tsx bench/cache.ts   (on the store `npm run bench` left)
 */
import { spawn } from 'node:child_process';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { serveBench, whenRunAlone } from './serve.ts';

const CLIENTS = 32;
/** The paced load: requests per second from the 32 clients together. */
const PACED_RATE = 1000;

/**
 * `node -e LOADER BASE TOKEN CLIENTS SECONDS MODE`: the clients, in a process of their own
 * so only the server's work shares its event loop. Distinct questions vary the window's
 * first and last day, so none repeats within a run. Prints one JSON line.
 */
const LOADER = `
const [base, token, clients, seconds, mode, rate] = process.argv.slice(1);
const zones = ['UTC', 'America/New_York', 'Europe/Paris', 'Asia/Tokyo'];
let n = 0, hits = 0;
const times = [];
// The first 3 s warm the server (its JIT) and the connections up and are not counted.
const WARM_MS = 3000;
const end = performance.now() + WARM_MS + Number(seconds) * 1000;
const pad = (d) => String(d).padStart(2, '0');
const started = performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const client = async (c) => {
  // Paced: client c sends at start + (c + k × clients) / rate seconds.
  for (let k = 0; performance.now() < end; k++) {
    const at = rate ? started + (c + k * Number(clients)) * 1000 / Number(rate) : performance.now();
    if (rate && at > performance.now()) await sleep(at - performance.now());
    const i = n++;
    const q = mode !== 'distinct'
      ? 'date_from=2026-09-01&date_to=2026-11-23&timezone=America/New_York'
      : 'date_from=2026-09-' + pad(1 + (i % 28)) + '&date_to=2026-11-' + pad(1 + (Math.floor(i / 28) % 23)) + '&timezone=' + zones[Math.floor(i / 644) % 4];
    const t0 = rate ? at : performance.now();
    const res = await fetch(base + '/api/telesales/reports/dashboard?' + q + '&account_id=1', { headers: { authorization: 'Bearer ' + token } });
    await res.arrayBuffer();
    if (t0 < started + WARM_MS) continue;
    times.push(performance.now() - t0);
    if (res.headers.get('x-cache') === 'hit') hits++;
  }
};
Promise.all(Array.from({ length: Number(clients) }, (_, c) => client(c))).then(() => {
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(p / 100 * times.length))];
  process.stdout.write(JSON.stringify({ rps: times.length / ((performance.now() - started - WARM_MS) / 1000), p50: at(50), p90: at(90), p95: at(95), p99: at(99), hitPct: 100 * hits / times.length }) + '\\n');
});
`;

export async function cacheBench(store: Store, seconds = 5): Promise<void> {
  const { app, base, token, meta } = await serveBench(store, undefined, { cacheBytes: 64 * 2 ** 20 });
  console.log(`\nresult cache: ${CLIENTS} clients asking for ${seconds} s from another process (goal: repeated p95 under 5 ms at 1,000 requests/s or more):`);
  for (const mode of ['paced', 'repeated', 'distinct'] as const) {
    const loader = spawn(process.execPath, ['-e', LOADER, base, token, String(CLIENTS), String(seconds), mode, mode === 'paced' ? String(PACED_RATE) : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    loader.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => loader.on('exit', r));
    const r = JSON.parse(out) as { rps: number; p50: number; p90: number; p95: number; p99: number; hitPct: number };
    console.log(`  ${mode.padEnd(9)} ${Math.round(r.rps).toLocaleString('en')} requests/s, p50 ${r.p50.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${Math.round(r.hitPct)} % hits`);
    record(`cache.${mode}.requests_per_s`, r.rps);
    record(`cache.${mode}.p95_ms`, r.p95);
    record(`cache.${mode}.hit_pct`, r.hitPct);
  }
  await app.close();
  await meta.destroy();
}

await whenRunAlone(import.meta.url, (store) => cacheBench(store));
