/**
 * Sync throughput and report latency on a generated source. Prints figures; asserts nothing.
 *   npm run bench                      10,000,000 calls (generated once into bench-data/)
 *   BENCH_CALLS=1000000 npm run bench  a smaller run
 *   BENCH_EXPORTS=0 npm run bench      without the export figures (bench/export.ts)
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { generateSource } from '../fixtures/generate.ts';
import { timeOtherEndpoints } from './endpoints.ts';
import { timeTelesales } from './reports.ts';
import { loginFlood } from './login-flood.ts';
import { cacheBench } from './cache.ts';
import { consoleBench } from './console.ts';
import { deliveryBench } from './delivery.ts';
import { serveBench } from './serve.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import { connectSource } from '../src/source/connect.ts';
import { Store } from '../src/store/duckdb.ts';
import { syncOnce } from '../src/sync/sync.ts';
import { exportBench, exportWindows } from './export.ts';
import { budgetBench } from './budget.ts';
import { kyselyRead } from './first-sync.ts';
import { record, writeResults } from './results.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const NOW = new Date('2026-11-24T12:00:00Z');
const dir = path.resolve('bench-data');
fs.mkdirSync(dir, { recursive: true });
const sourceFile = path.join(dir, `source-${CALLS}.db`);
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);

const fmt = (n: number) => Math.round(n).toLocaleString('en');

if (!fs.existsSync(sourceFile)) {
  const t0 = Date.now();
  await generateSource({ url: `sqlite:${sourceFile}.tmp`, calls: CALLS, now: NOW, seed: 42 });
  fs.renameSync(`${sourceFile}.tmp`, sourceFile);
  console.log(`generated ${fmt(CALLS)} calls in ${fmt((Date.now() - t0) / 1000)} s`);
}

// ---- sync ---------------------------------------------------------------------------
const storeFile = path.join(dir, `store-${CALLS}.duckdb`);
for (const f of [storeFile, storeFile + '.wal']) fs.rmSync(f, { force: true });
const store = await Store.open(storeFile);
const source = connectSource(`sqlite:${sourceFile}`);
const first = await syncOnce(store, source);
console.log(`first full sync: ${fmt(first.read)} rows in ${fmt(first.ms)} ms = ${fmt(first.read / (first.ms / 1000))} rows/s`);
record('sync.first.rows', first.read);
record('sync.first.rows_per_s', first.read / (first.ms / 1000));
for (const [t, s] of Object.entries(first.tables)) if (s.read > 1000) console.log(`  ${t.padEnd(20)} ${fmt(s.read)} rows`);

// Baseline: the same rows read as objects through Kysely and nothing else (the source side alone).
{
  const { rows, rowsPerSec } = await kyselyRead(source);
  console.log(`baseline: reading the same ${fmt(rows)} fact rows as objects through Kysely alone: ${fmt(rowsPerSec)} rows/s`);
  record('sync.baseline_kysely_read.rows_per_s', rowsPerSec);
}

// Incremental: 10,000 calls change in the source, as late dispositions would.
{
  const db = new Database(sourceFile);
  // Later than anything in the source, which earlier bench runs may already have touched.
  const { top } = db.prepare(`SELECT max(updated_at) AS top FROM calls`).get() as { top: string };
  const changedAt = new Date(Math.max(Date.parse(top), NOW.getTime()) + 3_600_000).toISOString();
  db.prepare(`UPDATE calls SET talk_sec = talk_sec + 1, updated_at = ? WHERE id IN (SELECT id FROM calls ORDER BY id DESC LIMIT 10000)`).run(changedAt);
  db.close();
  const inc = await syncOnce(store, source);
  console.log(`incremental sync of ${fmt(inc.upserted)} changed rows: ${fmt(inc.ms)} ms (${fmt(inc.upserted / (inc.ms / 1000))} rows/s)`);
  record('sync.incremental_10k.ms', inc.ms);
}
await source.close();
// Fold the WAL into the file before timing reads, as DuckDB's automatic checkpoint would.
await store.writeAll('CHECKPOINT');

// ---- report latency over HTTP -------------------------------------------------------
const { app, meta, base, token } = await serveBench(store, NOW);

await timeTelesales(base, token, store, REQUESTS);
// ---- the other report families: p95 goal 150 ms each ---------------------------------
await timeOtherEndpoints(base, token, meta, store, REQUESTS);
await loginFlood(store, REQUESTS);
await cacheBench(store);
await consoleBench(store);
await deliveryBench(store);

console.log(`\npeak RSS of the bench process: ${peak} MB`);
clearInterval(sampler);
const windows = await exportWindows(store, [1_000_000, 2_000_000]);
await app.close();
await store.close();
if (process.env.BENCH_EXPORTS !== '0') {
  await exportBench(storeFile, windows);
  await budgetBench(storeFile);
}
console.log(`\nfigures written to ${writeResults()}`);
