import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import type { Store } from '../../src/store/duckdb.ts';
import { FIXTURE_NOW, makeSource, syncInto, tmpDir } from '../helpers/fixture.ts';

const TABLES = ['partners', 'accounts', 'teams', 'agents', 'campaigns', 'leads', 'dispositions', 'caller_ids', 'phone_numbers', 'calls', 'sms_messages', 'credit_transactions'];

/** A digest of every fact and dimension row, to compare two stores. */
async function digest(store: Store): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const [r] = await store.all(`SELECT count(*) AS n, md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY id), '')) AS h FROM ${table} t`);
    out[table] = `${r.n}:${r.h}`;
  }
  const [r] = await store.all(`SELECT count(*) AS n, md5(coalesce(string_agg(t::VARCHAR, chr(10) ORDER BY account_id, slot15, campaign_id, agent_id), '')) AS h FROM call_slots t`);
  out.call_slots = `${r.n}:${r.h}`;
  return out;
}

/** The call_slots roll-up computed in TypeScript from the stored calls, keyed and sorted. */
async function expectedSlots(store: Store): Promise<string[]> {
  const calls = await store.all(`SELECT account_id, slot15, campaign_id, agent_id, direction, status, is_dial, is_answered, is_conversion, talk_sec, wrap_sec FROM calls`);
  const groups = new Map<string, number[]>();
  for (const c of calls) {
    const key = [c.account_id, c.slot15, c.campaign_id, c.agent_id].join('|');
    const g = groups.get(key) ?? [0, 0, 0, 0, 0, 0];
    const dial = c.direction === 'outbound' && c.status !== 'blocked';
    const answered = dial && Boolean(c.is_answered);
    if (dial) g[0]++;
    if (answered) { g[1]++; g[2] += Number(c.talk_sec); g[3] += Number(c.talk_sec) + Number(c.wrap_sec); }
    if (dial && c.is_conversion) g[4]++;
    if (c.direction === 'outbound' && c.status === 'blocked') g[5]++;
    groups.set(key, g);
  }
  return [...groups].map(([k, g]) => `${k}|${g.join('|')}`).sort();
}

/** lead_activity computed in TypeScript from the stored leads and calls. */
async function expectedLeadActivity(store: Store): Promise<string[]> {
  const leads = await store.all(`SELECT id, account_id, campaign_id, created_at FROM leads`);
  const calls = await store.all(`SELECT lead_id, account_id, campaign_id, started_at, is_dial, is_answered, talk_sec, disposition_code, is_conversion FROM calls WHERE lead_id IS NOT NULL`);
  const byLead = new Map<unknown, typeof calls>();
  for (const c of calls) byLead.set(c.lead_id, [...(byLead.get(c.lead_id) ?? []), c]);
  const ms = (v: unknown) => (v as Date).getTime();
  const first = (cs: typeof calls, p: (c: (typeof calls)[number]) => boolean) => {
    const ts = cs.filter(p).map((c) => ms(c.started_at));
    return ts.length ? Math.min(...ts) : null;
  };
  return leads.map((l) => {
    const cs = byLead.get(l.id) ?? [];
    const irregular = cs.some((c) => c.account_id !== l.account_id || c.campaign_id !== l.campaign_id || ms(c.started_at) < ms(l.created_at));
    return [l.id, irregular, first(cs, (c) => Boolean(c.is_dial)), first(cs, (c) => Boolean(c.is_dial && c.is_answered)),
      first(cs, (c) => Boolean(c.is_dial) && Number(c.talk_sec) > 30), first(cs, (c) => c.disposition_code !== null),
      first(cs, (c) => Boolean(c.is_conversion))].join('|');
  }).sort();
}

async function storedLeadActivity(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM lead_activity`);
  const ms = (v: unknown) => (v === null ? null : (v as Date).getTime());
  return rows.map((r) => [r.lead_id, r.irregular, ms(r.first_dial), ms(r.first_connect), ms(r.first_talk), ms(r.first_dispose), ms(r.first_convert)].join('|')).sort();
}

async function storedSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM call_slots`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.agent_id, r.dials, r.answers, r.talk_sec, r.handle_sec, r.conversions, r.blocked].join('|')).sort();
}

const dir = tmpDir('sync');
const sourceFile = await makeSource(dir, 5000, 11);
const source = new Database(sourceFile);
t.teardown(() => source.close());

t.test('a full sync loads every row; a second run changes nothing', async (t) => {
  const { store, result } = await syncInto(path.join(dir, 'a.duckdb'), sourceFile, 700);
  for (const table of TABLES) {
    const n = (source.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    t.equal(result.tables[table].upserted, n, `${table}: all ${n} rows`);
  }
  t.equal(result.rejected, 0);
  const before = await digest(store);
  const [{ value: version }] = await store.all(`SELECT value FROM store_meta WHERE key = 'data_version'`);
  await store.close();
  const again = await syncInto(path.join(dir, 'a.duckdb'), sourceFile, 700);
  t.equal(again.result.read, 0, 'nothing new is read');
  t.equal(again.result.upserted, 0);
  t.same(await digest(again.store), before, 'the store is unchanged');
  t.same((await again.store.all(`SELECT value FROM store_meta WHERE key = 'data_version'`))[0].value, version, 'data_version did not move');
  await again.store.close();
});

t.test('a late disposition and a corrected duration appear after the next sync', async (t) => {
  const file = path.join(dir, 'late.duckdb');
  (await syncInto(file, sourceFile)).store.close();
  const call = source.prepare(`SELECT * FROM calls WHERE direction = 'outbound' AND answered_at IS NOT NULL AND disposition_code IS NULL AND campaign_id IN (SELECT id FROM campaigns WHERE type = 'telesales') LIMIT 1`).get() as Record<string, any> | undefined
    ?? source.prepare(`SELECT * FROM calls WHERE answered_at IS NOT NULL LIMIT 1`).get() as Record<string, any>;
  // The change is made now: its updated_at is the time of the change, weeks after the call.
  const changedAt = new Date(FIXTURE_NOW.getTime() + 60_000).toISOString();
  source.prepare(`UPDATE calls SET disposition_code = 'sale', talk_sec = talk_sec + 7, updated_at = ? WHERE id = ?`).run(changedAt, call.id);
  const { store, result } = await syncInto(file, sourceFile);
  t.equal(result.tables.calls.upserted, 1, 'exactly the changed row');
  const [row] = await store.all(`SELECT disposition_code, talk_sec, is_conversion FROM calls WHERE id = $id`, { id: call.id });
  t.same(row, { disposition_code: 'sale', talk_sec: call.talk_sec + 7, is_conversion: true });
  await store.close();
});

t.test('the roll-ups equal the calls and leads they summarise after every kind of change', async (t) => {
  const file = path.join(dir, 'slots.duckdb');
  const first = await syncInto(file, sourceFile, 900);
  t.same(await storedSlots(first.store), await expectedSlots(first.store), 'call_slots after the first sync');
  t.same(await storedLeadActivity(first.store), await expectedLeadActivity(first.store), 'lead_activity after the first sync');
  await first.store.close();
  const changedAt = new Date(FIXTURE_NOW.getTime() + 90_000).toISOString();
  const [a, b, c] = source.prepare(`SELECT id, agent_id FROM calls WHERE direction = 'outbound' AND status <> 'blocked' AND agent_id IS NOT NULL AND lead_id IS NOT NULL ORDER BY id LIMIT 3`).all() as { id: number; agent_id: number }[];
  // A call moved to the day before its lead was created, another given to another agent,
  // a third blocked after the fact.
  source.prepare(`UPDATE calls SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', (SELECT created_at FROM leads WHERE id = calls.lead_id), '-1 day'),
    updated_at = ? WHERE id = ?`).run(changedAt, a.id);
  source.prepare(`UPDATE calls SET agent_id = ?, updated_at = ? WHERE id = ?`).run(c.agent_id === b.agent_id ? null : c.agent_id, changedAt, b.id);
  source.prepare(`UPDATE calls SET status = 'blocked', answered_at = NULL, updated_at = ? WHERE id = ?`).run(changedAt, c.id);
  // A disposition that stops converting changes the conversions of every call that used it.
  source.prepare(`UPDATE dispositions SET is_conversion = 1 - is_conversion, updated_at = ? WHERE id = (SELECT min(id) FROM dispositions WHERE code IN (SELECT disposition_code FROM calls))`).run(changedAt);
  const second = await syncInto(file, sourceFile, 900);
  t.ok(second.result.tables.dispositions.upserted >= 1 && second.result.tables.calls.upserted === 3, 'the changes were synced');
  for (const table of ['calls', 'leads', 'dispositions']) {
    const [{ dupes }] = await second.store.all(`SELECT (count(*) - count(DISTINCT id))::INTEGER AS dupes FROM ${table}`);
    t.equal(dupes, 0, `${table}: a replaced row leaves no duplicate`);
  }
  t.same(await storedSlots(second.store), await expectedSlots(second.store), 'call_slots after the changes');
  const activity = await storedLeadActivity(second.store);
  t.same(activity, await expectedLeadActivity(second.store), 'lead_activity after the changes');
  t.ok(activity.some((r) => r.split('|')[1] === 'true'), 'the call moved before its lead was created made that lead irregular');
  await second.store.close();
});

t.test('bad rows are quarantined with a reason and counted; the rest loads', async (t) => {
  const file = path.join(dir, 'bad.duckdb');
  (await syncInto(file, sourceFile)).store.close();
  const max = (source.prepare(`SELECT max(id) AS m FROM calls`).get() as { m: number }).m;
  const base = source.prepare(`SELECT * FROM calls WHERE id = ?`).get(max) as Record<string, any>;
  const later = new Date(FIXTURE_NOW.getTime() + 120_000).toISOString();
  const insert = (overrides: Record<string, unknown>) => {
    const row: Record<string, unknown> = { ...base, updated_at: later, ...overrides };
    const cols = Object.keys(row);
    source.prepare(`INSERT INTO calls (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`).run(...cols.map((c) => row[c]));
  };
  insert({ id: max + 1, status: 'exploded' });
  insert({ id: max + 2, account_id: 999 });
  insert({ id: max + 3, started_at: 'not a time' });
  insert({ id: max + 4, disposition_code: 'no_such_code' });
  insert({ id: max + 5 });
  const { store, result } = await syncInto(file, sourceFile);
  t.equal(result.tables.calls.rejected, 4);
  t.equal(result.tables.calls.upserted, 1, 'the good row loads');
  const rejects = await store.all(`SELECT source_id, reason FROM rejects WHERE table_name = 'calls' ORDER BY source_id`);
  t.same(rejects, [
    { source_id: String(max + 1), reason: 'unknown status: exploded' },
    { source_id: String(max + 2), reason: 'missing account' },
    { source_id: String(max + 3), reason: 'bad time: started_at' },
    { source_id: String(max + 4), reason: 'unknown disposition: no_such_code' },
  ]);
  const [raw] = await store.all(`SELECT raw->>'status' AS status FROM rejects WHERE source_id = $id`, { id: String(max + 1) });
  t.equal(raw.status, 'exploded', 'the raw row is kept');
  t.equal((await store.all(`SELECT count(*) AS n FROM calls WHERE id = $id`, { id: max + 5 }))[0].n, 1);
  await store.close();
  source.prepare(`DELETE FROM calls WHERE id > ?`).run(max);
});

t.test('a sync killed mid-batch (SIGKILL) and re-run equals an uninterrupted one', async (t) => {
  const whole = await syncInto(path.join(dir, 'whole.duckdb'), sourceFile, 500);
  const expected = await digest(whole.store);
  await whole.store.close();

  const dataDir = path.join(dir, 'killed');
  const env = { ...process.env, CALLBOARD_DATA_DIR: dataDir, CALLBOARD_SOURCE: `sqlite:${sourceFile}`, CALLBOARD_SYNC_BATCH: '500' };
  const child = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'sync'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let callBatches = 0;
  let killedAt = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.startsWith('batch calls') && ++callBatches === 3 && !killedAt) {
        killedAt = line;
        child.kill('SIGKILL');
      }
    }
  });
  const code = await new Promise<string | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
  t.equal(code, 'SIGKILL', `killed during the calls table (${killedAt})`);

  const resumed = await syncInto(path.join(dataDir, 'callboard.duckdb'), sourceFile, 500);
  t.ok(resumed.result.tables.calls.upserted > 0 && resumed.result.tables.calls.upserted < 5000, 'the re-run resumes from the watermark');
  t.equal(resumed.result.tables.partners.upserted, 0, 'tables finished before the kill are not read again');
  t.same(await digest(resumed.store), expected, 'identical to the uninterrupted store');
  await resumed.store.close();
});
