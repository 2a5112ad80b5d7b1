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
import { loginFlood } from './login-flood.ts';
import { cacheBench } from './cache.ts';
import { consoleBench } from './console.ts';
import { deliveryBench } from './delivery.ts';
import { latency, serveBench } from './serve.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import { connectSource } from '../src/source/connect.ts';
import { Store } from '../src/store/duckdb.ts';
import { syncOnce } from '../src/sync/sync.ts';
import { exportBench, exportWindows } from './export.ts';
import { budgetBench } from './budget.ts';
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

const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
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
  const t0 = Date.now();
  let n = 0;
  for (const table of ['calls', 'leads', 'credit_transactions', 'sms_messages']) {
    let last = 0;
    for (;;) {
      const rows = await source.db.selectFrom(table).selectAll().where('id', '>', last).orderBy('id').limit(50_000).execute();
      if (rows.length === 0) break;
      n += rows.length;
      last = Number(rows[rows.length - 1].id);
    }
  }
  const ms = Date.now() - t0;
  console.log(`baseline: reading the same ${fmt(n)} fact rows as objects through Kysely alone: ${fmt(n / (ms / 1000))} rows/s`);
  record('sync.baseline_kysely_read.rows_per_s', n / (ms / 1000));
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
const window = 'date_from=2026-08-27&date_to=2026-11-24&timezone=America/New_York&account_id=1';

const time = async (fn: () => Promise<unknown>): Promise<number[]> => (await latency(fn, REQUESTS)).all;

// Naive baselines: each report as one SQL over the raw rows, converting every row to
// local time to cut the window and the buckets (what a first version would write).
const local = (col: string) => `timezone('America/New_York', ${col} AT TIME ZONE 'UTC')`;
const inWindow = (col: string) => `${local(col)} >= TIMESTAMP '2026-08-27' AND ${local(col)} < TIMESTAMP '2026-11-25'`;
const dial = `direction = 'outbound' AND status <> 'blocked'`;
const naiveLeadFlags = `WITH l AS (SELECT id, source FROM leads WHERE account_id = 1 AND deleted_at IS NULL AND ${inWindow('created_at')}),
  f AS (SELECT l.id, l.source, bool_or(c.${dial.replace(' AND ', ' AND c.')}) AS dialed,
    bool_or(c.direction = 'outbound' AND c.status <> 'blocked' AND c.answered_at IS NOT NULL) AS connected,
    bool_or(c.direction = 'outbound' AND c.status <> 'blocked' AND c.talk_sec > 30) AS talked,
    bool_or(c.disposition_code IS NOT NULL) AS disposed, bool_or(d.is_conversion) AS converted
    FROM l LEFT JOIN calls c ON c.lead_id = l.id AND c.account_id = 1 AND ${inWindow('c.started_at')}
    LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
    GROUP BY l.id, l.source)`;
const naive: Record<string, string> = {
  'dashboard': `SELECT count(*) FILTER (WHERE ${dial}), count(*) FILTER (WHERE ${dial} AND answered_at IS NOT NULL),
    sum(talk_sec) FILTER (WHERE ${dial} AND answered_at IS NOT NULL), count(DISTINCT agent_id) FILTER (WHERE ${dial}),
    count(*) FILTER (WHERE direction = 'outbound' AND status = 'blocked')
    FROM calls WHERE account_id = 1 AND ${inWindow('started_at')}`,
  'disposition-breakdown': `SELECT c.disposition_code, any_value(d.label), any_value(d.category), count(*) FROM calls c
    LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
    WHERE c.account_id = 1 AND c.disposition_code IS NOT NULL AND ${inWindow('c.started_at')} GROUP BY 1 ORDER BY 4 DESC`,
  'agent-performance': `SELECT c.agent_id, any_value(a.name), count(*), count(*) FILTER (WHERE c.answered_at IS NOT NULL),
    sum(c.talk_sec + c.wrap_sec) FILTER (WHERE c.answered_at IS NOT NULL), count(*) FILTER (WHERE d.is_conversion)
    FROM calls c LEFT JOIN agents a ON a.id = c.agent_id LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
    WHERE c.account_id = 1 AND c.agent_id IS NOT NULL AND c.${dial.replace(' AND ', ' AND c.')} AND ${inWindow('c.started_at')} GROUP BY 1 ORDER BY 3 DESC`,
  'funnel': `${naiveLeadFlags} SELECT count(*), count(*) FILTER (WHERE dialed), count(*) FILTER (WHERE connected),
    count(*) FILTER (WHERE talked), count(*) FILTER (WHERE disposed), count(*) FILTER (WHERE converted) FROM f`,
  'caller-id-health': `SELECT caller_id_id, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL), sum(talk_sec) FILTER (WHERE answered_at IS NOT NULL),
    count(*) FILTER (WHERE answered_at IS NOT NULL AND talk_sec < 10), count(*) FILTER (WHERE status IN ('rejected', 'busy')),
    count(*) FILTER (WHERE ${local('started_at')} >= TIMESTAMP '2026-11-24')
    FROM calls WHERE account_id = 1 AND caller_id_id IS NOT NULL AND ${dial} AND ${inWindow('started_at')} GROUP BY 1`,
  'hour-dow-heatmap': `SELECT dayofweek(${local('started_at')}) w, hour(${local('started_at')}) h, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL)
    FROM calls WHERE account_id = 1 AND ${dial} AND ${inWindow('started_at')} GROUP BY ALL`,
  'lead-source-attribution': `${naiveLeadFlags} SELECT coalesce(source, '(unknown)'), count(*), count(*) FILTER (WHERE dialed),
    count(*) FILTER (WHERE connected), count(*) FILTER (WHERE converted) FROM f GROUP BY 1`,
  'time-series': `SELECT strftime(${local('started_at')}, '%Y-%m-%d') d, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL),
    sum(talk_sec) FILTER (WHERE answered_at IS NOT NULL) FROM calls WHERE account_id = 1 AND ${dial} AND ${inWindow('started_at')} GROUP BY d ORDER BY d`,
  'abandon-rate': `SELECT count(*) FILTER (WHERE answered_at IS NOT NULL), count(*) FILTER (WHERE answered_at IS NOT NULL AND status = 'abandoned')
    FROM calls WHERE campaign_id = 2 AND ${dial}
      AND ${local('started_at')} >= ${local("TIMESTAMP '2026-11-24 11:00:00'")} AND ${local('started_at')} < ${local("TIMESTAMP '2026-11-24 12:00:00'")}`,
};

console.log(`\nreport latency over HTTP, ${REQUESTS} sequential requests each, account 1 (${window}):`);
console.log(`${'report'.padEnd(26)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}   naive p50 / p95 ms   speed-up (p50)`);
for (const decl of reportCatalogue().filter((d) => d.family === 'telesales')) {
  const q = decl.name === 'abandon-rate' ? 'campaign_id=2' : decl.name === 'time-series' ? `${window}&group_by=day` : window;
  const ms = await time(async () => {
    const res = await fetch(`${base}/api/telesales/reports/${decl.name}?${q}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${decl.name}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  });
  const b = await time(() => store.all(naive[decl.name]));
  const baseline = `${pctl(b, 50).toFixed(1).padStart(9)} / ${pctl(b, 95).toFixed(1).padEnd(8)}   ${(pctl(b, 50) / pctl(ms, 50)).toFixed(1)}×`;
  console.log(`${decl.name.padEnd(26)} ${pctl(ms, 50).toFixed(1).padStart(8)} ${pctl(ms, 95).toFixed(1).padStart(8)}   ${baseline}`);
  record(`telesales.${decl.name}.p50_ms`, pctl(ms, 50));
  record(`telesales.${decl.name}.p95_ms`, pctl(ms, 95));
  record(`telesales.${decl.name}.naive_p50_ms`, pctl(b, 50));
}
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
