/**
 * Export figures for the call detail records over HTTP: rows/s and the server's peak
 * RSS for CSV and XLSX, next to DuckDB's own COPY (the ceiling) and a naive pipeline,
 * all measured in the same run, and the CSV export's DuckDB part alone (its slices
 * COPY'd in a bare process: what the store costs before any HTTP or JS streaming). The
 * server and each baseline run in a child process of their own so each peak RSS is that
 * pipeline's alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { peakMb, resetPeak } from './proc-memory.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en');
// The compiled build, as `npm start` runs the server: under tsx the same process holds
// about 40 MB more (the loader and its source maps), which is no part of an export.
const CHILD = ['dist/bench/export-child.js'];
/** BENCH_EXPORT_FORMATS=csv for a quicker run. */
const FORMATS = (process.env.BENCH_EXPORT_FORMATS ?? 'csv,xlsx').split(',') as ('csv' | 'xlsx')[];

/** Windows of whole UTC days holding about `target` calls (all accounts), from the first day on. */
export async function exportWindows(store: Store, targets: number[]): Promise<{ target: number; query: string; rows: number }[]> {
  const days = await store.all(`SELECT strftime(started_at, '%Y-%m-%d') AS d, count(*)::INTEGER AS n FROM calls GROUP BY 1 ORDER BY 1`);
  // Skip the first days, which start part-way through.
  const usable = days.slice(2);
  return targets.map((target) => {
    let rows = 0;
    let i = 0;
    while (i < usable.length && rows < target && i < 90) rows += Number(usable[i++].n);
    const from = String(usable[0].d);
    const to = String(usable[i - 1].d);
    return { target, query: `date_from=${from}&date_to=${to}`, rows };
  });
}

/** Compiles the project to dist/ with the package's own build script, which the children run. */
export function build(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export function child(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [...CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
}

export async function firstLine(p: ReturnType<typeof child>): Promise<Record<string, number>> {
  const rl = readline.createInterface({ input: p.stdout! });
  for await (const line of rl) {
    try {
      return JSON.parse(line) as Record<string, number>;
    } catch {
      // not ours
    }
  }
  throw new Error('the child printed nothing (it died: see its stderr above)');
}


export async function exportBench(storeFile: string, windows: { target: number; query: string; rows: number }[]): Promise<void> {
  build();
  console.log(`\ncall detail export over HTTP (all accounts, whole UTC days):`);
  console.log(`${'rows'.padStart(10)} ${'format'.padEnd(6)} ${'rows/s'.padStart(10)} ${'peak RSS'.padStart(9)}   ${'ceiling (COPY)'.padStart(15)} ${'naive rows/s'.padStart(13)} ${'naive RSS'.padStart(10)}   vs ceiling   vs naive`);
  for (const w of windows) {
    const copy = child(['copy', storeFile, w.query]);
    const ceiling = await firstLine(copy);
    await new Promise((r) => copy.on('exit', r));
    const ceilingRate = ceiling.rows / (ceiling.ms / 1000);
    const bare = child(['slices', storeFile, w.query]);
    const alone = await firstLine(bare);
    await new Promise((r) => bare.on('exit', r));
    console.log(`${fmt(ceiling.rows).padStart(10)} ceiling: DuckDB's COPY of the whole query ${fmt(ceilingRate)} rows/s, peak RSS ${fmt(ceiling.peakMb)} MB; the CSV export's slices alone (no HTTP, no JS) ${fmt(alone.rows / (alone.ms / 1000))} rows/s, peak RSS ${fmt(alone.peakMb)} MB`);

    const results: Record<string, { rate: number; peak: number; rows: number }> = {};
    // A server of its own per format: memory DuckDB and the allocator keep after one export
    // would otherwise count in the next one's peak.
    for (const format of FORMATS) {
      const server = child(['serve', storeFile]);
      const { port } = await firstLine(server);
      const base = `http://127.0.0.1:${port}`;
      const login = await fetch(`${base}/api/accounts/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@local', password: 'bench-password' }) });
      const token = ((await login.json()) as { data: { token: { access: string } } }).data.token.access;
      resetPeak(server.pid!);
      const t0 = performance.now();
      const res = await fetch(`${base}/api/calls?${w.query}&format=${format}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`export ${format}: ${res.status} ${await res.text()}`);
      let newlines = 0;
      for await (const part of res.body! as unknown as AsyncIterable<Uint8Array>) {
        // indexOf, not a loop over every byte: the client shares the two cores with the server.
        if (format === 'csv') for (let i = part.indexOf(10); i >= 0; i = part.indexOf(10, i + 1)) newlines++;
      }
      const s = (performance.now() - t0) / 1000;
      const rows = format === 'csv' ? newlines - 1 : ceiling.rows;
      results[format] = { rate: rows / s, peak: peakMb(server.pid!), rows };
      server.kill();
      await new Promise((r) => server.on('exit', r));
    }

    for (const format of FORMATS) {
      const naive = child([`naive-${format}`, storeFile, w.query]);
      // Without backpressure the naive pipeline can outgrow the JS heap: that is a result too.
      const n = await firstLine(naive).catch(() => null);
      await new Promise((r) => naive.on('exit', r));
      const naiveRate = n ? n.rows / (n.ms / 1000) : NaN;
      const r = results[format];
      if (r.rows !== ceiling.rows) console.log(`  ! ${format} export has ${r.rows} rows, the query ${ceiling.rows}`);
      const naiveCols = n ? `${fmt(naiveRate).padStart(13)} ${`${fmt(n.peakMb)} MB`.padStart(10)}` : `${'died: heap'.padStart(13)} ${'> 4 GB'.padStart(10)}`;
      const vsNaive = n ? `${(r.rate / naiveRate).toFixed(2).padStart(7)}×` : '      –';
      console.log(`${fmt(r.rows).padStart(10)} ${format.padEnd(6)} ${fmt(r.rate).padStart(10)} ${`${fmt(r.peak)} MB`.padStart(9)}   ${fmt(ceilingRate).padStart(15)} ${naiveCols}   ${(r.rate / ceilingRate).toFixed(2).padStart(10)}   ${vsNaive}`);
      record(`exports.call_detail.${format}.${r.rows}.rows_per_s`, r.rate);
      record(`exports.call_detail.${format}.${r.rows}.peak_rss_mb`, r.peak);
      record(`exports.call_detail.${format}.${r.rows}.ceiling_rows_per_s`, ceilingRate);
    }
  }
}

// Alone, on the store an earlier `npm run bench` left:
//   BENCH_EXPORT_ROWS=1000000 BENCH_EXPORT_FORMATS=csv npx tsx bench/export.ts
if (process.argv[1]?.endsWith('bench/export.ts')) {
  const { Store } = await import('../src/store/duckdb.ts');
  const path = await import('node:path');
  const file = path.resolve('bench-data', `store-${process.env.BENCH_CALLS ?? 10_000_000}.duckdb`);
  const store = await Store.open(file);
  const windows = await exportWindows(store, (process.env.BENCH_EXPORT_ROWS ?? '1000000,2000000').split(',').map(Number));
  await store.close();
  await exportBench(file, windows);
}
