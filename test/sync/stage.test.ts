import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { sourceTable } from '../../src/source/contract.ts';
import { Store } from '../../src/store/duckdb.ts';
import Database from 'better-sqlite3';
import { fillStageText, createStage } from '../../src/sync/stage.ts';
import { makeSource, sourceRows, syncInto, tmpDir } from '../helpers/fixture.ts';

// The stage holds one batch of source text at a time: filling it again frees the text of
// the batch before (DuckDB keeps the long strings of rows deleted from a temporary table
// until the table goes).
t.test('refilling the stage does not keep earlier batches in memory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callboard-stage-'));
  const store = await Store.open(path.join(dir, 'store.duckdb'), { readers: 1 });
  t.teardown(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const leads = sourceTable('leads');
  const row = (i: number) => JSON.stringify([String(i), '1', '1', `Lead number ${i} with a name long enough to live outside DuckDB's inline strings`]);
  const batch = Array.from({ length: 20_000 }, (_, i) => row(i)).join('\n');
  const overflow = async () => {
    const [r] = await store.all(`SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT AS b FROM duckdb_memory() WHERE tag = 'OVERFLOW_STRINGS'`);
    return Number(r.b);
  };
  await store.withWriteConnection(async (conn) => {
    await createStage(conn, leads);
    await fillStageText(conn, leads, batch, 20_000);
    const one = await overflow();
    for (let i = 0; i < 40; i++) await fillStageText(conn, leads, batch, 20_000);
    const many = await overflow();
    t.ok(one > 1_000_000, `a batch's text is held while staged (${one} bytes)`);
    t.ok(many < 3 * one, `41 batches hold about one batch's text (${many} bytes after, ${one} after the first)`);
  });
});

// SQLite hands a batch over as bytes; a value that is not UTF-8 becomes U+FFFD, as a
// string from the driver would, and the rows around it load unchanged.
t.test('a source value that is not UTF-8 loads with U+FFFD and spoils no other row', async (t) => {
  const dir = tmpDir('stage-utf8');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sourceFile = await makeSource(dir, 2000);
  const db = new Database(sourceFile);
  const lead = (db.prepare(`SELECT id FROM leads ORDER BY id LIMIT 1 OFFSET 10`).get() as { id: number }).id;
  // "José" in Latin-1: 0xE9 starts a three-byte UTF-8 sequence that never comes.
  db.prepare(`UPDATE leads SET source = CAST(x'4a6f73e9' AS TEXT) WHERE id = ?`).run(lead);
  db.close();
  const { store } = await syncInto(path.join(dir, 'store.duckdb'), sourceFile, 500);
  t.teardown(() => store.close());
  const [row] = await store.all(`SELECT source FROM leads WHERE id = $id`, { id: lead });
  t.equal(row?.source, 'Jos\uFFFD', 'the bad byte is replaced');
  const expected = sourceRows(sourceFile, 'leads');
  const stored = await store.all(`SELECT id, source FROM leads ORDER BY id`);
  t.equal(stored.length, expected.length, 'every lead is loaded');
  const names = new Map(expected.map((l) => [Number(l.id), l.source]));
  t.same(stored.filter((r) => Number(r.id) !== lead && r.source !== names.get(Number(r.id))), [], 'the other leads keep their names');
});
