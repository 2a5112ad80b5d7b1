import fs from 'node:fs';
import path from 'node:path';
import { writeToString } from 'fast-csv';
import t from 'tap';
import { startFakePlatform } from '../../fixtures/fake-platform.ts';
import { sourceTable } from '../../src/source/contract.ts';
import { syncPlatform } from '../../src/sync/platform-sync.ts';
import { parsePlatformUrl } from '../../src/source/platform-url.ts';
import Database from 'better-sqlite3';
import { connectSource } from '../../src/source/connect.ts';
import { Store } from '../../src/store/duckdb.ts';
import { syncOnce } from '../../src/sync/sync.ts';
import { cdrDirs, importCdrFiles } from '../../src/sync/cdr-import.ts';
import { makeApp, makeSource, sourceRows, tmpDir } from '../helpers/fixture.ts';

// Bad source rows never corrupt a report or cross a tenant, whichever path loads them.
interface Planted { table: string; id: number; reason: RegExp }
const planted: Planted[] = [];
const ctx = await makeApp('bad-rows', 3000, (db) => {
  const one = <T>(sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as T;
  const other = (table: string) => one<{ id: number }>(`SELECT id FROM ${table} WHERE account_id = 2 ORDER BY id LIMIT 1`).id;
  const calls = db.prepare(`SELECT id FROM calls WHERE account_id = 1 AND direction = 'outbound' ORDER BY id LIMIT 4`).all() as { id: number }[];
  const refs: [string, string, string][] = [['campaign_id', 'campaigns', 'campaign'], ['agent_id', 'agents', 'agent'], ['caller_id_id', 'caller_ids', 'caller id'], ['lead_id', 'leads', 'lead']];
  refs.forEach(([col, table, noun], i) => {
    db.prepare(`UPDATE calls SET ${col} = ? WHERE id = ?`).run(other(table), calls[i].id);
    planted.push({ table: 'calls', id: calls[i].id, reason: new RegExp(`^${noun} of another account: ${col} `) });
  });
  const agent = one<{ id: number }>(`SELECT id FROM agents WHERE account_id = 1 ORDER BY id LIMIT 1`).id;
  db.prepare(`UPDATE agents SET team_id = ? WHERE id = ?`).run(other('teams'), agent);
  planted.push({ table: 'agents', id: agent, reason: /^team of another account: team_id / });
  const lead = one<{ id: number }>(`SELECT id FROM leads WHERE account_id = 1 ORDER BY id DESC LIMIT 1`).id;
  db.prepare(`UPDATE leads SET campaign_id = ? WHERE id = ?`).run(other('campaigns'), lead);
  planted.push({ table: 'leads', id: lead, reason: /^campaign of another account: campaign_id / });
  const sms = one<{ id: number }>(`SELECT id FROM sms_messages WHERE account_id = 1 ORDER BY id LIMIT 1`).id;
  db.prepare(`UPDATE sms_messages SET campaign_id = ? WHERE id = ?`).run(other('campaigns'), sms);
  planted.push({ table: 'sms_messages', id: sms, reason: /^campaign of another account: campaign_id / });
});
t.teardown(ctx.close);

const reject = async (table: string, id: number) =>
  (await ctx.store.all(`SELECT reason, seen_count, loaded_by FROM rejects WHERE table_name = $table AND source_id = $id`, { table, id: String(id) }))
    .map((r) => ({ reason: String(r.reason), seen: Number(r.seen_count), by: r.loaded_by }));
const storedCall = async (id: number) => (await ctx.store.all(`SELECT account_id, talk_sec, loaded_from FROM calls WHERE id = $id`, { id }))[0];

t.test('the database sync quarantines rows that name another account\'s things', async (t) => {
  t.equal(planted.length, 7);
  for (const p of planted) {
    const [r] = await reject(p.table, p.id);
    t.ok(r, `${p.table} ${p.id} is quarantined`);
    t.match(r?.reason, p.reason, 'with its reason');
    const stored = await ctx.store.all(`SELECT 1 FROM ${p.table} WHERE id = $id`, { id: p.id });
    t.equal(stored.length, 0, 'and not loaded');
  }
  // No call detail row of account 1 shows a name of account 2's.
  const own = new Set(sourceRows(ctx.sourceFile, 'campaigns').filter((c) => c.account_id === 1).map((c) => c.name));
  const res = await ctx.app.inject({
    url: '/api/calls?date_from=2026-10-01&date_to=2026-12-29&format=csv',
    headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` },
  });
  const names = res.body.trim().split('\r\n').slice(1).map((l) => l.split(',')[9]).filter((n) => n !== '');
  t.ok(names.length > 100);
  t.ok(names.every((n) => own.has(n)), "every campaign name is account 1's own");
});

t.test('an incremental sync quarantines a call moved to another account\'s lead', async (t) => {
  const db = new Database(ctx.sourceFile);
  const call = db.prepare(`SELECT id FROM calls WHERE account_id = 1 AND lead_id IS NOT NULL ORDER BY id DESC LIMIT 1`).get() as { id: number };
  const lead = db.prepare(`SELECT id FROM leads WHERE account_id = 2 ORDER BY id LIMIT 1`).get() as { id: number };
  db.prepare(`UPDATE calls SET lead_id = ?, updated_at = ? WHERE id = ?`).run(lead.id, '2027-01-10T12:05:00.000Z', call.id);
  db.close();
  const source = connectSource(`sqlite:${ctx.sourceFile}`);
  const r = await syncOnce(ctx.store, source, { loadedBy: 'sync run #2' });
  await source.close();
  t.equal(r.tables.calls.rejected, 1);
  t.strictSame(await reject('calls', call.id), [{ reason: `lead of another account: lead_id ${lead.id}`, seen: 1, by: 'sync run #2' }]);
  t.ok(await storedCall(call.id), 'the call keeps its last good state');
});

// CDR files: the columns of the calls contract.
const COLUMNS = sourceTable('calls').columns.map((c) => c.name);
const dir = tmpDir('bad-rows-cdr');
const { inbox } = cdrDirs(dir);
fs.mkdirSync(inbox, { recursive: true });
const base = sourceRows(ctx.sourceFile, 'calls').find((c) => c.account_id === 1 && !planted.some((p) => p.id === c.id))!;
const cdr = (id: number, edit: Record<string, unknown> = {}) => ({ ...base, id, ...edit });
const drop = async (name: string, rows: Record<string, unknown>[]) => {
  fs.writeFileSync(path.join(inbox, name), await writeToString(rows.map((r) => COLUMNS.map((c) => r[c] ?? '')), { headers: COLUMNS, includeEndRowDelimiter: true }));
  return importCdrFiles(ctx.store, dir, { settleMs: 0, run: 'cdr run #1' });
};

t.test('repeated ids in one CDR file: the latest updated_at is kept, the last on a tie', async (t) => {
  const r = await drop('repeats.csv', [
    cdr(7_000_001, { talk_sec: 11, updated_at: '2026-12-01T10:00:00.000Z' }),
    cdr(7_000_001, { talk_sec: 33, updated_at: '2026-12-01T12:00:00.000Z' }),
    cdr(7_000_001, { talk_sec: 22, updated_at: '2026-12-01T11:00:00.000Z' }),
    cdr(7_000_002, { talk_sec: 44, updated_at: '2026-12-01T10:00:00.000Z' }),
    cdr(7_000_002, { talk_sec: 55, updated_at: '2026-12-01T10:00:00.000Z' }),
    cdr(7_000_003), cdr(7_000_003), cdr(7_000_003),
  ]);
  t.equal(r.upserted, 3, 'one call per id');
  t.equal(r.rejected, 5, 'the others are rejects');
  t.equal((await storedCall(7_000_001)).talk_sec, 33, 'the latest updated_at');
  t.equal((await storedCall(7_000_002)).talk_sec, 55, 'the last in the file on a tie');
  t.equal((await ctx.store.all(`SELECT 1 FROM calls WHERE id BETWEEN 7000001 AND 7000003`)).length, 3);
  t.equal((await storedCall(7_000_003)).loaded_from, 'cdr');
  const first = await reject('calls', 7_000_001);
  t.equal(first.length, 2);
  t.ok(first.every((x) => /^repeated id in the batch/.test(x.reason) && x.by === 'CDR file repeats.csv (cdr run #1)'), 'reason and file');
  t.strictSame((await reject('calls', 7_000_003)).map((x) => x.seen), [2], 'two identical copies: one reject seen twice');
});

t.test('a CDR row never replaces a call of another origin or another account', async (t) => {
  const synced = sourceRows(ctx.sourceFile, 'calls').find((c) => c.account_id === 1 && !planted.some((p) => p.id === c.id) && c.id !== base.id)!;
  const r = await drop('collisions.csv', [
    cdr(synced.id, { talk_sec: 999, updated_at: '2026-12-02T00:00:00.000Z' }),
    cdr(7_000_001, { account_id: 2, campaign_id: null, agent_id: null, caller_id_id: null, lead_id: null, disposition_code: null, talk_sec: 998, updated_at: '2026-12-02T00:00:00.000Z' }),
    cdr(7_000_002, { talk_sec: 77, updated_at: '2026-12-02T00:00:00.000Z' }),
  ]);
  t.equal(r.rejected, 2);
  t.equal(r.upserted, 1, 'a newer CDR row of a CDR call of the same account replaces it');
  t.equal((await storedCall(7_000_002)).talk_sec, 77);
  t.match((await reject('calls', synced.id))[0]?.reason, /^id of an existing call loaded from source/);
  t.strictSame({ ...(await storedCall(synced.id)) }, { account_id: 1, talk_sec: synced.talk_sec, loaded_from: 'source' }, 'the synced call is untouched');
  t.match((await reject('calls', 7_000_001)).find((x) => /existing/.test(x.reason))?.reason, /^id of an existing call of another account/);
  t.equal((await storedCall(7_000_001)).account_id, 1, 'the call stays in its account');
});

t.test('the platform API sync keeps one row of a number listed twice', async (t) => {
  const pdir = tmpDir('bad-rows-platform');
  const sourceFile = await makeSource(pdir, 1500);
  const platform = await startFakePlatform({ sourceFile, accountId: 1, email: 'api@acme.test', password: 'secret-pass', pageSize: 5 });
  const store = await Store.open(path.join(pdir, 'store.duckdb'));
  t.teardown(async () => {
    await platform.close();
    await store.close();
  });
  platform.faults.overlap = true;
  const src = parsePlatformUrl(`platform+${platform.url.replace('http://', 'http://api%40acme.test:secret-pass@')}/?account_id=1`);
  const r = await syncPlatform(store, src, { refreshAheadSec: 0, loadedBy: 'sync run #7' });
  t.ok(r.tables.leads.rejected > 0, 'the repeated numbers are rejects');
  const [dupes] = await store.all(`SELECT (count(*) - count(DISTINCT id))::INTEGER AS n FROM leads`);
  t.equal(dupes.n, 0, 'no lead twice');
  const [calls] = await store.all(`SELECT (count(*) - count(DISTINCT id))::INTEGER AS n, count(*) FILTER (WHERE loaded_from <> 'platform')::INTEGER AS other FROM calls`);
  t.strictSame({ ...calls }, { n: 0, other: 0 }, 'no call twice, each marked as the platform\'s');
  const reasons = await store.all(`SELECT DISTINCT reason, loaded_by FROM rejects`);
  t.ok(reasons.every((x) => /^repeated id in the batch/.test(String(x.reason)) && x.loaded_by === 'sync run #7'));
});

t.test('GET /api/admin/rejects shows every quarantined row to admins, a page at a time', async (t) => {
  const get = async (q: string, user = 'admin@test') => {
    const res = await ctx.app.inject({ url: `/api/admin/rejects?${q}`, headers: { authorization: `Bearer ${await ctx.token(user)}` } });
    return { status: res.statusCode, body: res.json() };
  };
  const all = await get('page_size=100');
  t.equal(all.status, 200);
  const n = Number((await ctx.store.all(`SELECT count(*)::INTEGER AS n FROM rejects`))[0].n);
  t.equal(all.body.pagination.total_items, n);
  t.ok(n >= planted.length + 5);
  for (const p of planted) {
    const row = all.body.data.find((r: { table: string; source_id: string }) => r.table === p.table && r.source_id === String(p.id));
    t.ok(row, `${p.table} ${p.id} is listed`);
    t.match(row?.reason, p.reason);
    t.equal(String(row?.raw.id), String(p.id), 'with the row as read');
    t.match(row?.last_seen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  const cdrRow = all.body.data.find((r: { reason: string }) => /repeated id/.test(r.reason));
  t.equal(cdrRow.loaded_by, 'CDR file repeats.csv (cdr run #1)', 'the file it came from');
  const pages: string[] = [];
  for (let page = 1; page <= Math.ceil(n / 3); page++) {
    const { body } = await get(`page=${page}&page_size=3`);
    pages.push(...body.data.map((r: { table: string; source_id: string; reason: string }) => `${r.table}|${r.source_id}|${r.reason}`));
  }
  t.strictSame(pages, all.body.data.map((r: { table: string; source_id: string; reason: string }) => `${r.table}|${r.source_id}|${r.reason}`), 'the pages tile the list');
  const agents = await get('table=agents');
  t.ok(agents.body.data.length >= 1 && agents.body.data.every((r: { table: string }) => r.table === 'agents'));
  t.equal((await get('', 'acct1@test')).status, 403, 'admins only');
  for (const q of ['table=nope', 'page=0', 'page_size=101', 'page_size=x', 'colour=red', 'constructor=1']) t.equal((await get(q)).status, 422, q);
});
