/**
 * The first sync of the bench source into a new store with no memory budget, as `npm run
 * bench` times it, and the same fact rows read as objects through Kysely alone, measured
 * just after (the baseline; goal: 250,000 rows/s and faster than the baseline). The
 * store is made in bench-data/ and removed afterwards; the bench store is left as it is.
 *   BENCH_CALLS=10000000 npm run bench:sync   (on the source an earlier `npm run bench` made)
 */
import fs from 'node:fs';
import path from 'node:path';
import { connectSource } from '../src/source/connect.ts';
import { Store } from '../src/store/duckdb.ts';
import { syncOnce } from '../src/sync/sync.ts';
import { record, writeResults } from './results.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 10_000_000);
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const sourceFile = path.resolve('bench-data', `source-${CALLS}.db`);
if (!fs.existsSync(sourceFile)) throw new Error(`no ${sourceFile}: \`npm run bench\` generates it`);
const storeFile = path.resolve('bench-data', `first-sync-${CALLS}.duckdb`);
const remove = () => { for (const f of [storeFile, `${storeFile}.wal`]) fs.rmSync(f, { force: true }); };
remove();

const store = await Store.open(storeFile);
const source = connectSource(`sqlite:${sourceFile}`);
try {
  const first = await syncOnce(store, source);
  const rate = first.read / (first.ms / 1000);
  console.log(`first full sync, no budget: ${fmt(first.read)} rows in ${fmt(first.ms)} ms = ${fmt(rate)} rows/s`);
  record('sync.first_unlimited.rows_per_s', rate);

  const t0 = Date.now();
  let n = 0;
  for (const table of ['calls', 'leads', 'credit_transactions', 'sms_messages'] as const) {
    let last = 0;
    for (;;) {
      const rows = await source.db.selectFrom(table).selectAll().where('id', '>', last).orderBy('id').limit(50_000).execute();
      if (rows.length === 0) break;
      n += rows.length;
      last = Number(rows[rows.length - 1].id);
    }
  }
  const baseline = n / ((Date.now() - t0) / 1000);
  console.log(`baseline: the same ${fmt(n)} fact rows as objects through Kysely alone: ${fmt(baseline)} rows/s; the sync is ${(rate / baseline).toFixed(2)}× that`);
  record('sync.baseline_kysely_read.rows_per_s', baseline);
  record('sync.first_unlimited.to_baseline', rate / baseline);
} finally {
  await source.close();
  await store.close();
  remove();
}
console.log(`results: ${writeResults()}`);
