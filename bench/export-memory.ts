/**
 * Where the call detail CSV export's DuckDB memory goes: its slices COPY'd in this
 * process (no HTTP, no JS pipeline), with the peak of each duckdb_memory() tag sampled
 * every 50 ms, on the store an earlier `npm run bench` left:
 *   npm run --silent build && node dist/bench/export-memory.js
 * Environment:
 *   BENCH_EXPORT_FLOOR=1           the floor: the same slices scanned and sorted with no join
 *                                  and no time zone (names empty, times as UTC text)
 *   BENCH_SLICE_ROWS=N             rows per slice instead of the report's own
 *   BENCH_DUCKDB_MEMORY_LIMIT=X    DuckDB's memory_limit (`120MB`); unset: DuckDB's default
 *   BENCH_EXPORT_ROWS=2000000      one window only: each window's blocks stay cached for the
 *                                  next, so a fresh process per window gives its own peak
 */
import path from 'node:path';
import { copiedCsv, layoutOf } from '../src/export/report-export.ts';
import { callDetail } from '../src/reports/calls/call-detail.ts';
import type { Principal } from '../src/auth/principal.ts';
import { ReportEngine } from '../src/reports/engine.ts';
import { Store } from '../src/store/duckdb.ts';
import { exportWindows } from './export.ts';
import { drainSlices, peakMb, resetPeak } from './proc-memory.ts';

const admin: Principal = { userId: 1, email: 'bench@local', role: 'admin', accountId: null, partnerId: null };
const file = path.resolve('bench-data', `store-${process.env.BENCH_CALLS ?? 10_000_000}.duckdb`);
const store = await Store.open(file);
const limit = process.env.BENCH_DUCKDB_MEMORY_LIMIT;
if (limit) await store.exec(`SET memory_limit = '${limit.replace(/'/g, '')}'`);
const engine = new ReportEngine(store, undefined, process.env.BENCH_SLICE_ROWS ? Number(process.env.BENCH_SLICE_ROWS) : undefined);

// Every column of the call detail, so the export's layout and cells apply unchanged.
const FLOOR_SQL = `SELECT id, started_at::VARCHAR AS started_at, answered_at::VARCHAR AS answered_at, ended_at::VARCHAR AS ended_at,
    direction, product, status, account_id, campaign_id, NULL::VARCHAR AS campaign_name, agent_id, NULL::VARCHAR AS agent_name,
    lead_id, NULL::VARCHAR AS lead_source, NULL::VARCHAR AS caller_id, from_number, to_number, talk_sec, wrap_sec, disposition_code,
    NULL::VARCHAR AS disposition_label, credits::VARCHAR AS credits, cost::VARCHAR AS cost,
    strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS _key_started
  FROM detail_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id, $direction, $status)
  ORDER BY started_at, id`;

for (const w of await exportWindows(store, (process.env.BENCH_EXPORT_ROWS ?? '1000000,2000000').split(',').map(Number))) {
  const r = await engine.prepare(callDetail, { ...Object.fromEntries(new URLSearchParams(w.query)), format: 'csv' }, admin, ['csv']);
  const prepared = process.env.BENCH_EXPORT_FLOOR === '1' ? { ...r, sql: FLOOR_SQL } : r;
  const slices = await copiedCsv(engine, prepared, layoutOf(prepared, undefined));
  if (!slices) throw new Error('the call detail CSV is not COPY-able');
  const peaks = new Map<string, number>();
  let total = 0;
  let sampling = true;
  const sample = (async () => {
    while (sampling) {
      const rows = await store.all(`SELECT tag, memory_usage_bytes::DOUBLE AS b FROM duckdb_memory()`);
      let sum = 0;
      for (const row of rows) {
        const mb = Number(row.b) / 1e6;
        sum += mb;
        peaks.set(String(row.tag), Math.max(peaks.get(String(row.tag)) ?? 0, mb));
      }
      total = Math.max(total, sum);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  resetPeak();
  const t0 = performance.now();
  const read = { rows: 0 };
  let failed: unknown = null;
  try {
    await drainSlices(slices, read);
  } catch (err) {
    failed = err;
  }
  const rows = read.rows;
  const s = (performance.now() - t0) / 1000;
  sampling = false;
  await sample;
  if (failed) {
    console.log(`${w.rows.toLocaleString('en')} rows: failed after ${rows.toLocaleString('en')}: ${String((failed as Error).message ?? failed).split('\n')[0]}`);
    continue;
  }
  const tags = [...peaks].filter(([, mb]) => mb >= 1).map(([tag, mb]) => `${tag} ${Math.round(mb)}`).join(', ');
  console.log(`${rows.toLocaleString('en')} rows in ${s.toFixed(1)} s; peak RSS ${Math.round(peakMb())} MB; DuckDB's tracked memory peaked at ${Math.round(total)} MB (each tag's own peak, MB: ${tags})`);
}
await store.close();
