import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { syncJobOptions } from '../../jobs/sync.ts';
import { budgetStoreOptions, loadConfig } from '../../src/config/config.ts';
import { connectSource } from '../../src/source/connect.ts';
import { Store } from '../../src/store/duckdb.ts';
import { batchSizeFor, syncOnce } from '../../src/sync/sync.ts';
import { makeSource, tmpDir } from '../helpers/fixture.ts';

// A first load, while nothing else runs, takes more of the 1 GiB budget than DuckDB's
// steady 3/16: 5/16 of it while its tables load, 3/8 for the roll-ups' rebuild. The
// configured limit is back afterwards, and a later sync runs at it.
t.test('a first load takes its own share of the budget, then gives it back', async (t) => {
  const dir = tmpDir('memory-share');
  const store = await Store.open(path.join(dir, 'store.duckdb'), budgetStoreOptions(2 ** 30, path.join(dir, 'tmp')));
  const sourceFile = await makeSource(dir, 3000);
  const source = connectSource(`sqlite:${sourceFile}`);
  t.teardown(async () => {
    await source.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const limit = async () => String((await store.all(`SELECT current_setting('memory_limit') AS v`))[0].v);
  const seen = async (batchSize: number) => {
    const readings: Promise<string>[] = [];
    await syncOnce(store, source, { batchSize, onBatch: () => void readings.push(limit()) });
    return Promise.all(readings);
  };
  t.equal(await limit(), '192.0 MiB', 'the configured limit');
  const first = await seen(500);
  t.ok(first.length > 3, `the first load committed ${first.length} batches`);
  t.equal(first[0], '320.0 MiB', 'its tables load at 5/16 of the budget');
  t.equal(await limit(), '192.0 MiB', 'the limit is back after it');
  const db = new Database(sourceFile);
  db.prepare(`UPDATE calls SET talk_sec = talk_sec + 1, updated_at = '2027-01-11T00:00:00.000Z' WHERE id IN (SELECT id FROM calls ORDER BY id LIMIT 50)`).run();
  db.close();
  const later = await seen(500);
  t.ok(later.length > 0, 'a later sync loads the changed calls');
  t.same([...new Set(later)], ['192.0 MiB'], 'at the configured limit');
});

// The over-budget retry lifts DuckDB's limit; a first load inside it keeps the lifted one
// instead of dropping to its own.
t.test('a first load inside a lifted limit keeps the lifted one', async (t) => {
  const dir = tmpDir('memory-lifted');
  const store = await Store.open(path.join(dir, 'store.duckdb'), budgetStoreOptions(2 ** 30, path.join(dir, 'tmp')));
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const limit = async () => String((await store.all(`SELECT current_setting('memory_limit') AS v`))[0].v);
  const inside = await store.withoutMemoryLimit(async () => [await limit(), await store.withFirstLoadLimit('load', limit)]);
  t.not(inside[0], '192.0 MiB', `lifted: ${inside[0]}`);
  t.equal(inside[1], inside[0], 'the first load keeps it');
  t.equal(await store.withFirstLoadLimit('rebuild', limit), '384.0 MiB', 'outside, the rebuild takes 3/8 of the budget');
  t.equal(await limit(), '192.0 MiB', 'and the configured limit is back');
});

// A first load under a budget reads batches of just over a row group, which keeps two in
// memory at once inside it; with no budget it reads the larger ones, a fifth faster
// (10M calls: 217,000 against 251,000 rows/s).
t.test('a first load reads smaller batches only under a memory budget', async (t) => {
  const dir = tmpDir('batch-size');
  const budgeted = await Store.open(path.join(dir, 'budget.duckdb'), budgetStoreOptions(2 ** 30, path.join(dir, 'tmp')));
  const free = await Store.open(path.join(dir, 'free.duckdb'));
  t.teardown(async () => {
    await budgeted.close();
    await free.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.equal(batchSizeFor(budgeted, true), 125_000, 'first load, budget');
  t.equal(batchSizeFor(budgeted, false), 250_000, 'later syncs, budget');
  t.equal(batchSizeFor(free, true), 250_000, 'first load, no budget');
  t.equal(batchSizeFor(free, false), 250_000, 'later syncs, no budget');
});

// The server's sync job leaves the batch size to the sync (125,000 rows on a first load
// under the budget) unless CALLBOARD_SYNC_BATCH names one.
t.test('CALLBOARD_SYNC_BATCH, when set, is the batch size of every sync', async (t) => {
  const dir = tmpDir('sync-batch');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  t.equal(syncJobOptions(loadConfig({ CALLBOARD_DATA_DIR: dir }), '').batchSize, undefined, 'unset: the sync chooses');
  t.equal(syncJobOptions(loadConfig({ CALLBOARD_DATA_DIR: dir, CALLBOARD_SYNC_BATCH: '500' }), '').batchSize, 500);
  t.throws(() => loadConfig({ CALLBOARD_DATA_DIR: dir, CALLBOARD_SYNC_BATCH: '10' }), /CALLBOARD_SYNC_BATCH/);
});
