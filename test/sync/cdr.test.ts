import fs from 'node:fs';
import path from 'node:path';
import { writeToString } from 'fast-csv';
import t from 'tap';
import { cdrDirs, importCdrFiles } from '../../src/sync/cdr-import.ts';
import { sourceTable } from '../../src/source/contract.ts';
import { makeApp, sourceRows, tmpDir } from '../helpers/fixture.ts';

const ctx = await makeApp('cdr', 1500);
t.teardown(ctx.close);

const COLUMNS = sourceTable('calls').columns.map((c) => c.name);
const dir = tmpDir('cdr-drop');
const { inbox, loaded, failed } = cdrDirs(dir);
fs.mkdirSync(inbox, { recursive: true });
const settled = { settleMs: 0 };

/** Source calls re-numbered from `firstId`: CDRs of calls the store has not seen. */
function records(n: number, firstId: number, edit: (r: Record<string, any>) => void = () => undefined) {
  return sourceRows(ctx.sourceFile, 'calls').slice(0, n).map((c, i) => {
    const r: Record<string, any> = { ...c, id: firstId + i };
    edit(r);
    return r;
  });
}
const csv = (rows: Record<string, any>[], columns = COLUMNS) => writeToString(rows.map((r) => columns.map((c) => r[c] ?? '')), { headers: columns, includeEndRowDelimiter: true });
const stored = async (lo: number, hi: number) => Number((await ctx.store.all(`SELECT count(*) AS n FROM calls WHERE id BETWEEN $lo AND $hi`, { lo, hi }))[0].n);

t.test('a good CSV loads once; the same file again is a duplicate', async (t) => {
  const rows = records(40, 5_000_000);
  fs.writeFileSync(path.join(inbox, 'day1.csv'), await csv(rows));
  const r = await importCdrFiles(ctx.store, dir, settled);
  t.strictSame(r.files.map((f) => [f.file, f.status]), [['day1.csv', 'loaded']]);
  t.equal(r.upserted, 40);
  t.equal(await stored(5_000_000, 5_000_039), 40);
  const [slotCalls] = await ctx.store.all(`SELECT sum(dials + blocked) AS n FROM call_slots`);
  const [callRows] = await ctx.store.all(`SELECT count(*) FILTER (WHERE direction = 'outbound') AS n FROM calls`);
  t.equal(Number(slotCalls.n), Number(callRows.n), 'the roll-ups include the imported calls');
  t.ok(fs.existsSync(path.join(loaded, 'day1.csv')), 'moved to loaded/');
  const one = (await ctx.store.all(`SELECT status, talk_sec, credits::VARCHAR AS credits FROM calls WHERE id = 5000007`))[0];
  t.strictSame(one, { status: rows[7].status, talk_sec: rows[7].talk_sec, credits: rows[7].credits });

  fs.writeFileSync(path.join(inbox, 'day1.csv'), await csv(rows));
  const again = await importCdrFiles(ctx.store, dir, settled);
  t.strictSame(again.files.map((f) => f.status), ['duplicate']);
  t.equal(await stored(5_000_000, 5_000_039), 40, 'nothing twice');
  t.ok(fs.existsSync(path.join(loaded, 'day1 (2).csv')));
});

t.test('a bad row in a good file is quarantined, the rest loads', async (t) => {
  const rows = records(10, 5_100_000, (r) => {
    if (r.id === 5_100_003) r.status = 'lost';
  });
  fs.writeFileSync(path.join(inbox, 'mixed.csv'), await csv(rows));
  const r = await importCdrFiles(ctx.store, dir, settled);
  t.equal(r.upserted, 9);
  t.equal(r.rejected, 1);
  const reject = await ctx.store.all(`SELECT reason FROM rejects WHERE table_name = 'calls' AND source_id = '5100003'`);
  t.match(String(reject[0].reason), /status/);
});

t.test('bad files move aside with their error; half-written ones are never loaded', async (t) => {
  fs.writeFileSync(path.join(inbox, 'no-status.csv'), await csv(records(5, 5_200_000), COLUMNS.filter((c) => c !== 'status')));
  const truncated = await csv(records(20, 5_300_000));
  fs.writeFileSync(path.join(inbox, 'truncated.csv'), truncated.slice(0, Math.floor(truncated.length * 0.6)).replace(/\r?\n[^\n]*$/, '\n5300099,1,'));
  fs.writeFileSync(path.join(inbox, 'garbage.csv'), 'id,account_id\n"unterminated,1\n');
  fs.writeFileSync(path.join(inbox, 'still-copying.csv.part'), await csv(records(5, 5_400_000)));
  fs.writeFileSync(path.join(inbox, 'just-written.csv'), await csv(records(5, 5_500_000)));
  const r = await importCdrFiles(ctx.store, dir, { settleMs: 60_000, now: () => fs.statSync(path.join(inbox, 'just-written.csv')).mtimeMs + 1_000 });
  t.notOk(r.files.some((f) => f.file === 'just-written.csv'), 'a file modified a moment ago waits');
  t.notOk(r.files.some((f) => f.file.endsWith('.part')), 'a .part file waits');
  await new Promise((res) => setTimeout(res, 5));
  const all = await importCdrFiles(ctx.store, dir, settled);
  const status = Object.fromEntries([...r.files, ...all.files].map((f) => [f.file, f.status]));
  t.equal(status['no-status.csv'], 'failed');
  t.equal(status['truncated.csv'], 'failed');
  t.equal(status['garbage.csv'], 'failed');
  t.equal(status['just-written.csv'], 'loaded', 'once settled it loads');
  t.match(fs.readFileSync(path.join(failed, 'no-status.csv.error.txt'), 'utf8'), /status/);
  t.ok(fs.existsSync(path.join(failed, 'truncated.csv.error.txt')));
  t.equal(await stored(5_300_000, 5_300_099), 0, 'nothing of the truncated file');
  t.equal(await stored(5_200_000, 5_200_099), 0);
  t.ok(fs.existsSync(path.join(inbox, 'still-copying.csv.part')), 'the .part file is still there');
});

t.test('Parquet files load through DuckDB\'s reader', async (t) => {
  const rows = records(25, 5_600_000);
  const staging = path.join(tmpDir('cdr-parquet'), 'calls.csv');
  fs.writeFileSync(staging, await csv(rows));
  // A typed Parquet file, as a platform's export would be: timestamps, integers, decimals.
  const target = path.join(tmpDir('cdr-parquet-out'), 'batch.parquet');
  await ctx.store.exec(`COPY (SELECT * REPLACE (id::BIGINT AS id, started_at::TIMESTAMP AS started_at, answered_at::TIMESTAMP AS answered_at, ended_at::TIMESTAMP AS ended_at,
      updated_at::TIMESTAMP AS updated_at, talk_sec::INTEGER AS talk_sec, credits::DECIMAL(18,4) AS credits)
    FROM read_csv('${staging}', header = true, all_varchar = true)) TO '${target}' (FORMAT parquet)`);
  fs.copyFileSync(target, path.join(inbox, 'batch.parquet'));
  const r = await importCdrFiles(ctx.store, dir, settled);
  t.strictSame(r.files.map((f) => [f.file, f.status]), [['batch.parquet', 'loaded']]);
  t.equal(await stored(5_600_000, 5_600_024), 25);
  const got = (await ctx.store.all(`SELECT strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS s, credits::VARCHAR AS c FROM calls WHERE id = 5600004`))[0];
  t.strictSame(got, { s: new Date(rows[4].started_at).toISOString(), c: rows[4].credits });
});
