/**
 * The first sync of the bench source into a new store with no memory budget, as `npm run
 * bench` times it, and the same fact rows read as objects through Kysely alone, measured
 * just after (the baseline; goal: 250,000 rows/s and faster than the baseline). The
 * store is made in bench-data/ and removed afterwards; the bench store is left as it is.
 *   BENCH_CALLS=10000000 npm run bench:sync   (on the source an earlier `npm run bench` made)
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectSource, type SourceConnection } from '../src/source/connect.ts';
import { Store } from '../src/store/duckdb.ts';
import { syncOnce } from '../src/sync/sync.ts';
import { record, writeResults } from './results.ts';

/** The sync's baseline: the fact tables read as objects through Kysely and nothing else (the source side alone). */
export async function kyselyRead(source: SourceConnection): Promise<{ rows: number; rowsPerSec: number }> {
  const t0 = Date.now();
  let rows = 0;
  for (const table of ['calls', 'leads', 'credit_transactions', 'sms_messages'] as const) {
    let last = 0;
    for (;;) {
      const page = await source.db.selectFrom(table).selectAll().where('id', '>', last).orderBy('id').limit(50_000).execute();
      if (page.length === 0) break;
      rows += page.length;
      last = Number(page[page.length - 1].id);
    }
  }
  return { rows, rowsPerSec: rows / ((Date.now() - t0) / 1000) };
}

async function firstSyncBench(): Promise<void> {
  const calls = Number(process.env.BENCH_CALLS ?? 10_000_000);
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const sourceFile = path.resolve('bench-data', `source-${calls}.db`);
  if (!fs.existsSync(sourceFile)) throw new Error(`no ${sourceFile}: \`npm run bench\` generates it`);
  const storeFile = path.resolve('bench-data', `first-sync-${calls}.duckdb`);
  const remove = () => { for (const f of [storeFile, `${storeFile}.wal`]) fs.rmSync(f, { force: true }); };
  remove();
  const store = await Store.open(storeFile);
  const source = connectSource(`sqlite:${sourceFile}`);
  try {
    const first = await syncOnce(store, source);
    const rate = first.read / (first.ms / 1000);
    console.log(`first full sync, no budget: ${fmt(first.read)} rows in ${fmt(first.ms)} ms = ${fmt(rate)} rows/s`);
    record('sync.first_unlimited.rows_per_s', rate);
    const baseline = await kyselyRead(source);
    console.log(`baseline: the same ${fmt(baseline.rows)} fact rows as objects through Kysely alone: ${fmt(baseline.rowsPerSec)} rows/s; the sync is ${(rate / baseline.rowsPerSec).toFixed(2)}× that`);
    record('sync.baseline_kysely_read.rows_per_s', baseline.rowsPerSec);
    record('sync.first_unlimited.to_baseline', rate / baseline.rowsPerSec);
  } finally {
    await source.close();
    await store.close();
    remove();
  }
  console.log(`results: ${writeResults()}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await firstSyncBench();
