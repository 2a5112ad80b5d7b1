/**
 * The memory budget (CALLBOARD_MEMORY_LIMIT, 1 GiB by default): the server's peak RSS for
 * one call-detail CSV export of about 1M rows and one of the longest window (90 days, about
 * 7.5M rows of the 10M-call source), and for 8 exports of about 1M rows at once (4 CSV,
 * 4 XLSX; the export queue runs 2 at a time under 1 GiB). Each case on a fresh server (the
 * compiled build) with the budget, and the 1M-row CSV once more with no budget as the
 * baseline of the same run. The two CSV exports alternate, BENCH_EXPORT_ROUNDS times each
 * (3 unless set), and the long one is compared with the 1M one by their medians. Then the
 * first sync of the bench source into a new store under the budget, in a process of its
 * own (`BENCH_FIRST_SYNC=0` skips it). Goals: the long export within 10 % of the 1M one;
 * every peak under the budget.
 *   npm run build && BENCH_CALLS=10000000 npx tsx bench/budget.ts
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Store } from '../src/store/duckdb.ts';
import { budgetShares } from '../src/config/config.ts';
import { build, child, exportWindows, firstLine } from './export.ts';
import { peakMb, resetPeak } from './proc-memory.ts';
import { record, writeResults } from './results.ts';
import { benchStoreFile, latency, serveBench } from './serve.ts';
import { reportCatalogue } from '../src/reports/registry.ts';

const BUDGET = Number(process.env.BENCH_MEMORY_LIMIT ?? 2 ** 30);
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function serve(storeFile: string, budget: number) {
  const server = child(['serve', storeFile], budget ? { BENCH_MEMORY_LIMIT: String(budget) } : {});
  const { port } = await firstLine(server);
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/accounts/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@local', password: 'bench-password' }) });
  const token = ((await login.json()) as { data: { token: { access: string } } }).data.token.access;
  const download = async (query: string, format: string) => {
    const res = await fetch(`${base}/api/calls?${query}&format=${format}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
    let bytes = 0;
    for await (const part of res.body! as unknown as AsyncIterable<Uint8Array>) bytes += part.length;
    return bytes;
  };
  resetPeak(server.pid!);
  return {
    download,
    peak: () => peakMb(server.pid!),
    stop: async () => {
      server.kill();
      await new Promise((r) => server.on('exit', r));
    },
  };
}

export async function budgetBench(storeFile: string, rounds = Number(process.env.BENCH_EXPORT_ROUNDS ?? 3)): Promise<void> {
  build();
  const store = await Store.open(storeFile);
  const [one, long] = await exportWindows(store, [1_000_000, 20_000_000]);
  await store.close();
  console.log(`\nmemory budget ${fmt(BUDGET / 2 ** 20)} MiB: server peak RSS (goal: every case under the budget, the long export within 10 % of the 1M one):`);
  type Case = [string, string, (s: Awaited<ReturnType<typeof serve>>) => Promise<unknown>, number];
  const csv1m: Case = ['csv_1m', `CSV, ${fmt(one.rows)} rows`, (s) => s.download(one.query, 'csv'), BUDGET];
  const csvLong: Case = ['csv_long', `CSV, ${fmt(long.rows)} rows`, (s) => s.download(long.query, 'csv'), BUDGET];
  // The two CSV cases alternate, `rounds` times each, and compare medians: one export's
  // peak varies by up to a fifth from one server to the next.
  const cases: Case[] = [
    ['csv_1m_unlimited', `CSV, ${fmt(one.rows)} rows, no budget (baseline)`, (s) => s.download(one.query, 'csv'), 0],
    ...Array.from({ length: rounds }, () => [csv1m, csvLong]).flat(),
    ['concurrent_8', `8 at once (4 CSV, 4 XLSX), ${fmt(one.rows)} rows each`, (s) => Promise.all(['csv', 'csv', 'csv', 'csv', 'xlsx', 'xlsx', 'xlsx', 'xlsx'].map((f) => s.download(one.query, f))), BUDGET],
  ];
  const peaks: Record<string, number[]> = {};
  const seconds: Record<string, number[]> = {};
  for (const [key, label, run, budget] of cases) {
    const s = await serve(storeFile, budget);
    const t0 = performance.now();
    let peak: number;
    try {
      await run(s);
    } finally {
      peak = s.peak();
      await s.stop();
    }
    const secs = (performance.now() - t0) / 1000;
    (peaks[key] ??= []).push(peak);
    (seconds[key] ??= []).push(secs);
    console.log(`  ${label.padEnd(48)} peak ${fmt(peak).padStart(6)} MiB${budget ? ` = ${(peak / (budget / 2 ** 20)).toFixed(2)} of the budget` : ''}, ${secs.toFixed(1)} s`);
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  for (const key of Object.keys(peaks)) {
    record(`budget.${key}.peak_rss_mb`, median(peaks[key]));
    record(`budget.${key}.seconds`, median(seconds[key]));
    if (peaks[key].length > 1) record(`budget.${key}.peaks_rss_mb`, peaks[key].map(Math.round));
  }
  const [m1, mLong] = [median(peaks.csv_1m), median(peaks.csv_long)];
  console.log(`  medians of ${rounds}: the 1M export ${fmt(m1)} MiB, the long one ${fmt(mLong)} MiB = ${(mLong / m1).toFixed(2)}× (highest ${(Math.max(...peaks.csv_long) / Math.max(...peaks.csv_1m)).toFixed(2)}×); the 1M one at ${(m1 / peaks.csv_1m_unlimited[0]).toFixed(2)}× the same export with no budget`);
  record('budget.long_to_1m_peak_ratio', mLong / m1);
  record('budget.long_to_1m_highest_peak_ratio', Math.max(...peaks.csv_long) / Math.max(...peaks.csv_1m));
  if (process.env.BENCH_FIRST_SYNC !== '0') await firstSync(storeFile.replace(/store-(\d+)\.duckdb$/, 'source-$1.db'), `${storeFile}.first-sync.duckdb`);
}

/** The first sync of `sourceFile` into a new store under the budget: its peak RSS and rows/s. */
async function firstSync(sourceFile: string, storeFile: string): Promise<void> {
  const p = child(['first-sync', storeFile, sourceFile], { BENCH_MEMORY_LIMIT: String(BUDGET) });
  const r = await firstLine(p);
  await new Promise((done) => p.on('exit', done));
  for (const f of [storeFile, `${storeFile}.wal`]) fs.rmSync(f, { force: true });
  fs.rmSync(`${storeFile}.tmp`, { recursive: true, force: true });
  console.log(`  ${`first sync, ${fmt(r.rows)} source rows`.padEnd(48)} peak ${fmt(r.peakMb).padStart(6)} MiB = ${(r.peakMb / (BUDGET / 2 ** 20)).toFixed(2)} of the budget, ${(r.ms / 1000).toFixed(1)} s (${fmt(r.rows / (r.ms / 1000))} rows/s)`);
  record('budget.first_sync.peak_rss_mb', r.peakMb);
  record('budget.first_sync.seconds', r.ms / 1000);
}

/**
 * The telesales reports' p95 with DuckDB under the budget's half against no limit, the
 * same requests in the same run (goal: within 10 %): `rounds` alternate the two servers
 * (no limit, limit, no limit, …) so neither is always the warmer one, each round sending
 * `requests` sequential requests per report; p95 is taken over every round's requests.
 */
export async function budgetLatency(storeFile: string, requests = Number(process.env.BENCH_REQUESTS ?? 20), rounds = Number(process.env.BENCH_BUDGET_ROUNDS ?? 1)): Promise<void> {
  const window = 'date_from=2026-08-26&date_to=2026-11-23&timezone=America/New_York&account_id=1';
  const times: Record<string, Record<string, number[]>> = { unlimited: {}, budget: {} };
  for (let round = 0; round < rounds; round++) {
    for (const [mode, memoryLimit] of [['unlimited', 0], ['budget', budgetShares(BUDGET).duckdb]] as const) {
      const store = await Store.open(storeFile, memoryLimit ? { memoryLimit, tempDir: `${storeFile}.tmp` } : {});
      const { app, base, token, meta } = await serveBench(store);
      for (const decl of reportCatalogue().filter((d) => d.family === 'telesales')) {
        const q = decl.name === 'abandon-rate' ? 'campaign_id=2' : window;
        const { all } = await latency(async () => {
          const res = await fetch(`${base}/api/telesales/reports/${decl.name}?${q}`, { headers: { authorization: `Bearer ${token}` } });
          if (res.status !== 200) throw new Error(`${decl.name}: ${res.status}`);
          await res.arrayBuffer();
        }, requests);
        (times[mode][decl.name] ??= []).push(...all);
      }
      await app.close();
      await meta.destroy();
      await store.close();
    }
  }
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];
  console.log(`\ntelesales p95 with DuckDB limited to ${fmt(budgetShares(BUDGET).duckdb / 2 ** 20)} MiB against no limit, ${rounds} round(s) of ${requests} requests (goal: within 10 %):`);
  for (const name of Object.keys(times.unlimited)) {
    const [free, limited] = [p95(times.unlimited[name]), p95(times.budget[name])];
    const ratio = limited / free;
    console.log(`  ${name.padEnd(26)} ${free.toFixed(1).padStart(7)} ms → ${limited.toFixed(1).padStart(7)} ms = ${ratio.toFixed(2)}×`);
    record(`budget.latency.${name}.p95_ratio`, ratio);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.BENCH_BUDGET_LATENCY_ONLY !== '1') await budgetBench(benchStoreFile());
  await budgetLatency(benchStoreFile());
  console.log(`results: ${writeResults()}`);
}
