/**
 * The process whose memory the export benchmark measures (bench/export.ts starts it):
 *   serve STORE          the real HTTP service over the store; prints its port
 *   naive-csv STORE Q    one object per row through fast-csv's defaults, to /dev/null
 *   naive-xlsx STORE Q   exceljs's streaming writer with styles, no backpressure, to /dev/null
 *   copy STORE Q         DuckDB's own COPY (…) TO csv: the ceiling
 *   slices STORE Q       the CSV export's DuckDB part alone: the same slices COPY'd to
 *                        files, each deleted as it arrives, no HTTP and no JS pipeline
 *   first-sync STORE SRC the first sync of the SQLite source SRC into STORE, made anew
 * Q is the call-detail query string (date_from=…&date_to=…). Prints one JSON line.
 */
import fs from 'node:fs';
import { format } from 'fast-csv';
import { addUser } from '../src/auth/users.ts';
import { buildApp } from '../src/http/app.ts';
import { copiedCsv, layoutOf } from '../src/export/report-export.ts';
import { openMeta } from '../src/meta/db.ts';
import { callDetail } from '../src/reports/calls/call-detail.ts';
import type { Principal } from '../src/auth/principal.ts';
import { ReportEngine } from '../src/reports/engine.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import { Store } from '../src/store/duckdb.ts';
import { ExportGate } from '../src/export/gate.ts';
import { budgetShares, budgetStoreOptions } from '../src/config/config.ts';
import { connectSource } from '../src/source/connect.ts';
import { syncOnce } from '../src/sync/sync.ts';
import { drainSlices, peakMb, resetPeak } from './proc-memory.ts';

const [mode, storeFile, query] = process.argv.slice(2);
// BENCH_MEMORY_LIMIT (bytes): the service's budget, split as the server splits it.
const budget = Number(process.env.BENCH_MEMORY_LIMIT ?? 0);
if (mode === 'first-sync') for (const f of [storeFile, `${storeFile}.wal`]) fs.rmSync(f, { force: true });
const store = await Store.open(storeFile, budget ? budgetStoreOptions(budget, `${storeFile}.tmp`) : {});
const admin: Principal = { userId: 1, email: 'bench@local', role: 'admin', accountId: null, partnerId: null };

if (mode === 'first-sync') {
  const source = connectSource(`sqlite:${query}`);
  resetPeak();
  const result = await syncOnce(store, source);
  console.log(JSON.stringify({ rows: result.read, ms: result.ms, peakMb: peakMb() }));
  await source.close();
  await store.close();
  process.exit(0);
} else if (mode === 'serve') {
  const meta = await openMeta(':memory:');
  await addUser(meta, { email: 'bench@local', password: 'bench-password', role: 'admin' });
  const exports = budget ? { gate: new ExportGate(budgetShares(budget).exports, 16) } : {};
  const app = await buildApp({ store, meta, jwtSecret: 'bench-secret-bench-secret-bench-secret', reports: reportCatalogue(), logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent', logStream: process.stderr, exports });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
} else if (mode === 'slices') {
  const engine = new ReportEngine(store);
  const r = await engine.prepare(callDetail, { ...Object.fromEntries(new URLSearchParams(query)), format: 'csv' }, admin, ['csv']);
  const slices = await copiedCsv(engine, r, layoutOf(r, undefined));
  if (!slices) throw new Error('the call detail CSV is not COPY-able any more');
  resetPeak();
  const t0 = performance.now();
  const rows = await drainSlices(slices);
  console.log(JSON.stringify({ rows, ms: performance.now() - t0, peakMb: peakMb() }));
  process.exit(0);
} else {
  // The same SQL and parameters as the endpoint, run the way a first version would.
  const engine = new ReportEngine(store);
  const r = await engine.prepare(callDetail, Object.fromEntries(new URLSearchParams(query)), admin, ['json']);
  const bound = { ...r.bound, limit: null };
  const types = { campaign_id: 'bigint', team_id: 'bigint', agent_ids: 'bigint[]', from: 'varchar', to: 'varchar', direction: 'varchar', status: 'varchar', after_started: 'varchar', after_id: 'bigint', limit: 'bigint' } as const;
  const t0 = performance.now();
  let rows = 0;
  if (mode === 'copy') {
    const sql = r.sql.replace(/\$(\w+)/g, (_, n: string) => {
      const v = (bound as Record<string, unknown>)[n];
      return v === null ? 'NULL' : Array.isArray(v) ? `[${v.join(',')}]` : typeof v === 'number' ? String(v) : `'${String(v)}'`;
    });
    const [res] = await store.all(`SELECT count(*) AS n FROM (${sql})`);
    rows = Number(res.n);
    resetPeak();
    const c0 = performance.now();
    await store.withConnection((c) => c.run(`COPY (${sql}) TO '/dev/null' (FORMAT csv, HEADER)`));
    console.log(JSON.stringify({ rows, ms: performance.now() - c0, peakMb: peakMb() }));
    process.exit(0);
  }
  const q = await store.openStream(r.sql, bound, types);
  const out = fs.createWriteStream('/dev/null');
  if (mode === 'naive-csv') {
    const csv = format({ headers: true });
    csv.pipe(out);
    for await (const chunk of q.chunks) {
      for (const values of chunk) {
        const o: Record<string, unknown> = {};
        q.names.forEach((n, i) => (o[n] = typeof values[i] === 'bigint' ? Number(values[i]) : values[i]));
        csv.write(o);
        rows++;
      }
    }
    csv.end();
    await new Promise<void>((resolve) => out.on('finish', () => resolve()));
  } else {
    // Imported here: the server this script also runs loads exceljs only when it writes a workbook.
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    const ws = wb.addWorksheet('calls');
    ws.columns = q.names.map((n) => ({ header: n, key: n, width: 14 }));
    for await (const chunk of q.chunks) {
      for (const values of chunk) {
        const o: Record<string, unknown> = {};
        q.names.forEach((n, i) => (o[n] = typeof values[i] === 'bigint' ? Number(values[i]) : values[i]));
        ws.addRow(o).commit();
        rows++;
      }
    }
    await (ws as unknown as { commit(): Promise<void> }).commit();
    await wb.commit();
  }
  console.log(JSON.stringify({ rows, ms: performance.now() - t0, peakMb: peakMb() }));
  process.exit(0);
}
