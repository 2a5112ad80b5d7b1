import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { sourceTable } from '../../src/source/contract.ts';
import { Store } from '../../src/store/duckdb.ts';
import { fillStageText, createStage } from '../../src/sync/stage.ts';

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
