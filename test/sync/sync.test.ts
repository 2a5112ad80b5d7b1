import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import type { Store } from '../../src/store/duckdb.ts';
import { units } from '../helpers/decimal.ts';
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

/** lead_slots computed in TypeScript from the stored leads and lead_activity's TypeScript twin. */
async function expectedLeadSlots(store: Store): Promise<string[]> {
  const leads = await store.all(`SELECT id, account_id, campaign_id, source, created_at FROM leads WHERE deleted_at IS NULL`);
  const activity = new Map((await expectedLeadActivity(store)).map((line) => {
    const [id, irregular, ...firsts] = line.split('|');
    return [id, { irregular: irregular === 'true', firsts: firsts.map((f) => (f === '' ? null : Number(f))) }];
  }));
  const groups = new Map<string, { leads: number; stages: number[]; last: number | null; irregular: number }>();
  for (const l of leads) {
    const a = activity.get(String(l.id))!;
    const slot = Math.floor((l.created_at as Date).getTime() / 900_000);
    const key = [l.account_id, slot, l.campaign_id, l.source ?? ''].join('|');
    const g = groups.get(key) ?? { leads: 0, stages: [0, 0, 0, 0, 0], last: null, irregular: 0 };
    if (a.irregular) g.irregular++;
    else {
      g.leads++;
      a.firsts.forEach((f, i) => { if (f !== null) g.stages[i]++; });
      for (const f of a.firsts) if (f !== null && (g.last === null || f > g.last)) g.last = f;
    }
    groups.set(key, g);
  }
  return [...groups].map(([k, g]) => [k, g.leads, ...g.stages, g.last ?? '', g.irregular].join('|')).sort();
}

async function storedLeadSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM lead_slots`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.source ?? '', r.leads, r.dialed, r.connected, r.talked, r.disposed,
    r.converted, r.last_stage_at === null ? '' : (r.last_stage_at as Date).getTime(), r.irregular].join('|')).sort();
}

async function storedSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM call_slots`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.agent_id, r.dials, r.answers, r.talk_sec, r.handle_sec, r.conversions, r.blocked].join('|')).sort();
}

/** call_groups computed in TypeScript from the stored calls (money in 1/10,000 units). */
async function expectedCallGroups(store: Store): Promise<string[]> {
  const calls = await store.all(`SELECT account_id, slot15, campaign_id, direction, product, status, answered_at IS NOT NULL AS answered,
    talk_sec, cost::VARCHAR AS cost, credits::VARCHAR AS credits, message_sec, playback_sec FROM calls`);
  const groups = new Map<string, { n: number[]; money: bigint[]; pct: number }>();
  for (const c of calls) {
    const key = [c.account_id, c.slot15, c.campaign_id, c.direction, c.product, c.status].join('|');
    const g = groups.get(key) ?? { n: Array(11).fill(0), money: [0n, 0n], pct: 0 };
    const talk = Number(c.talk_sec);
    g.n[0]++;
    if (c.answered) { g.n[1]++; g.n[2] += talk; g.n[3] += Math.ceil(talk / 60); }
    g.money[0] += units(String(c.cost));
    g.money[1] += units(String(c.credits));
    if (Number(c.message_sec) > 0) {
      const played = Number(c.playback_sec ?? 0);
      const pct = (played * 100) / Number(c.message_sec);
      g.n[4]++;
      if (played > 0) g.n[5]++;
      g.n[6] += played;
      g.pct += pct;
      g.n[pct < 25 ? 7 : pct < 50 ? 8 : pct < 75 ? 9 : 10]++;
    }
    groups.set(key, g);
  }
  return [...groups].map(([k, g]) => `${k}|${g.n.slice(0, 4).join('|')}|${g.money.join('|')}|${g.n.slice(4).join('|')}|${g.pct.toFixed(6)}`).sort();
}

async function storedCallGroups(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT *, cost::VARCHAR AS cost, credits::VARCHAR AS credits FROM call_groups`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.direction, r.product, r.status, r.calls, r.answered, r.talk_sec,
    r.billable_minutes, units(String(r.cost)), units(String(r.credits)), r.messages, r.messages_played, r.playback_sec,
    r.pct_0_25, r.pct_25_50, r.pct_50_75, r.pct_75_100, Number(r.playback_pct_sum).toFixed(6)].join('|')).sort();
}

/** caller_slots computed in TypeScript from the stored calls: dials with a caller ID. */
async function expectedCallerSlots(store: Store): Promise<string[]> {
  const calls = await store.all(`SELECT account_id, slot15, campaign_id, caller_id_id, direction, status, answered_at IS NOT NULL AS answered, talk_sec FROM calls`);
  const slots = new Map<string, number[]>();
  for (const c of calls) {
    if (c.direction !== 'outbound' || c.status === 'blocked' || c.caller_id_id === null) continue;
    const key = [c.account_id, c.slot15, c.campaign_id, c.caller_id_id].join('|');
    const g = slots.get(key) ?? [0, 0, 0, 0, 0];
    const talk = Number(c.talk_sec);
    g[0]++;
    if (c.answered) { g[1]++; g[2] += talk; if (talk < 10) g[3]++; }
    if (c.status === 'rejected' || c.status === 'busy') g[4]++;
    slots.set(key, g);
  }
  return [...slots].map(([k, g]) => `${k}|${g.join('|')}`).sort();
}

async function storedCallerSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM caller_slots`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.caller_id_id, r.dials, r.answered, r.answered_talk_sec, r.short_calls, r.rejected_calls].join('|')).sort();
}

/** disposition_slots computed in TypeScript from the stored calls: disposed calls. */
async function expectedDispositionSlots(store: Store): Promise<string[]> {
  const calls = await store.all(`SELECT account_id, slot15, campaign_id, disposition_code FROM calls`);
  const slots = new Map<string, number>();
  for (const c of calls) {
    if (c.disposition_code === null) continue;
    const key = [c.account_id, c.slot15, c.campaign_id, c.disposition_code].join('|');
    slots.set(key, (slots.get(key) ?? 0) + 1);
  }
  return [...slots].map(([k, n]) => `${k}|${n}`).sort();
}

async function storedDispositionSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT * FROM disposition_slots`);
  return rows.map((r) => [r.account_id, r.slot15, r.campaign_id, r.disposition_code, r.calls].join('|')).sort();
}

/** ledger_slots computed in TypeScript from the stored ledger. */
async function expectedLedgerSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT account_id, created_at, kind, credits::VARCHAR AS credits FROM credit_transactions`);
  const slots = new Map<string, [bigint, number]>();
  for (const r of rows) {
    const key = [r.account_id, Math.floor((r.created_at as Date).getTime() / 900_000), r.kind].join('|');
    const s = slots.get(key) ?? [0n, 0];
    slots.set(key, [s[0] + units(String(r.credits)), s[1] + 1]);
  }
  return [...slots].map(([k, [c, n]]) => `${k}|${c}|${n}`).sort();
}

async function storedLedgerSlots(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT account_id, slot15, kind, credits::VARCHAR AS credits, n FROM ledger_slots`);
  return rows.map((r) => `${r.account_id}|${r.slot15}|${r.kind}|${units(String(r.credits))}|${r.n}`).sort();
}

/**
 * billing_issues computed in TypeScript: every call or SMS whose credits its account's
 * usage rows do not match, and every usage row naming no record of its account.
 */
async function expectedBillingIssues(store: Store): Promise<string[]> {
  const records = await store.all(`SELECT account_id, 'call' AS type, id, started_at AS at, credits::VARCHAR AS credits FROM calls
    UNION ALL SELECT account_id, 'sms', id, sent_at, credits::VARCHAR FROM sms_messages`);
  const usage = await store.all(`SELECT id, account_id, ref_type, ref_id, created_at, credits::VARCHAR AS credits FROM credit_transactions WHERE kind = 'usage'`);
  const key = (account: unknown, type: unknown, id: unknown) => `${account}|${type}|${id}`;
  const charged = new Map<string, bigint>();
  for (const u of usage) {
    const k = key(u.account_id, u.ref_type, u.ref_id);
    charged.set(k, (charged.get(k) ?? 0n) - units(String(u.credits)));
  }
  const out: string[] = [];
  const known = new Set<string>();
  for (const r of records) {
    const k = key(r.account_id, r.type, r.id);
    known.add(k);
    const credits = units(String(r.credits));
    const ch = charged.get(k);
    const at = (r.at as Date).getTime();
    if (ch === undefined && credits > 0n) out.push(`${k}|record_without_usage||${at}|${credits}|0`);
    if (ch !== undefined && ch !== credits) out.push(`${k}|credits_differ||${at}|${credits}|${ch}`);
  }
  for (const u of usage) {
    const k = key(u.account_id, u.ref_type, u.ref_id);
    if (!known.has(k)) out.push(`${k}|usage_without_record|${u.id}|${(u.created_at as Date).getTime()}||${-units(String(u.credits))}`);
  }
  return out.sort();
}

async function storedBillingIssues(store: Store): Promise<string[]> {
  const rows = await store.all(`SELECT *, record_credits::VARCHAR AS record_credits, charged::VARCHAR AS charged FROM billing_issues`);
  return rows.map((r) => [r.account_id, r.ref_type, r.ref_id, r.problem, r.ledger_id ?? '', (r.at as Date).getTime(),
    r.record_credits === null ? '' : units(String(r.record_credits)), units(String(r.charged))].join('|')).sort();
}

/** Every roll-up of the store against its TypeScript computation. */
async function checkRollups(t: { same: (a: unknown, b: unknown, m: string) => unknown }, store: Store, when: string): Promise<void> {
  t.same(await storedSlots(store), await expectedSlots(store), `call_slots ${when}`);
  t.same(await storedLeadActivity(store), await expectedLeadActivity(store), `lead_activity ${when}`);
  t.same(await storedLeadSlots(store), await expectedLeadSlots(store), `lead_slots ${when}`);
  t.same(await storedCallGroups(store), await expectedCallGroups(store), `call_groups ${when}`);
  t.same(await storedCallerSlots(store), await expectedCallerSlots(store), `caller_slots ${when}`);
  t.same(await storedDispositionSlots(store), await expectedDispositionSlots(store), `disposition_slots ${when}`);
  t.same(await storedLedgerSlots(store), await expectedLedgerSlots(store), `ledger_slots ${when}`);
  t.same(await storedBillingIssues(store), await expectedBillingIssues(store), `billing_issues ${when}`);
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

t.test('every call carries its lead\'s source: after the lead changes, and once a late lead arrives', async (t) => {
  const file = path.join(dir, 'lead-source.duckdb');
  (await syncInto(file, sourceFile)).store.close();
  const changedAt = new Date(FIXTURE_NOW.getTime() + 70_000).toISOString();
  const columns = (table: string) => (source.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[])
    .map((c) => c.name).filter((c) => c !== 'id' && c !== 'updated_at');
  const copyRow = (table: string, id: number, fromId: number, at: string, set: Record<string, unknown> = {}) => {
    const cols = columns(table);
    source.prepare(`INSERT INTO ${table} (id, updated_at, ${cols.join(', ')}) SELECT ?, ?, ${cols.map((c) => (c in set ? '?' : c)).join(', ')} FROM ${table} WHERE id = ?`)
      .run(id, at, ...cols.filter((c) => c in set).map((c) => set[c]), fromId);
  };
  // A lead whose source changes weeks after its calls were synced.
  const lead = source.prepare(`SELECT id, source FROM leads l WHERE (SELECT count(*) FROM calls c WHERE c.lead_id = l.id) > 1 ORDER BY id LIMIT 1`).get() as { id: number; source: string | null };
  const renamed = lead.source === 'referral' ? 'web_form' : 'referral';
  source.prepare(`UPDATE leads SET source = ?, updated_at = ? WHERE id = ?`).run(renamed, changedAt, lead.id);
  // A call of a lead the source has not delivered yet.
  const late = (source.prepare(`SELECT max(id) AS m FROM leads`).get() as { m: number }).m + 1;
  const call = (source.prepare(`SELECT max(id) AS m FROM calls`).get() as { m: number }).m + 1;
  copyRow('calls', call, lead.id === 1 ? 2 : 1, changedAt, { lead_id: late });
  // A call of a lead with a source, loaded again by this run (not a first load).
  const again = source.prepare(`SELECT c.id FROM calls c JOIN leads l ON l.id = c.lead_id WHERE l.source IS NOT NULL AND l.id <> ? ORDER BY c.id LIMIT 1`).get(lead.id) as { id: number };
  source.prepare(`UPDATE calls SET updated_at = ? WHERE id = ?`).run(changedAt, again.id);
  const second = await syncInto(file, sourceFile);
  t.equal(second.result.tables.calls.upserted, 2, 'the new call and the reloaded one');
  const sourceOf = async (store: Store, where: string, params: Record<string, number>) =>
    (await store.all(`SELECT DISTINCT lead_source FROM calls WHERE ${where}`, params)).map((r) => r.lead_source);
  t.same(await sourceOf(second.store, 'lead_id = $id', { id: lead.id }), [renamed], 'the lead\'s calls follow its new source');
  t.same(await sourceOf(second.store, 'id = $id', { id: call }), [null], 'a call before its lead has none yet');
  second.store.close();
  copyRow('leads', late, lead.id, new Date(FIXTURE_NOW.getTime() + 80_000).toISOString(), { source: 'google_ads' });
  const third = await syncInto(file, sourceFile);
  t.same(await sourceOf(third.store, 'id = $id', { id: call }), ['google_ads'], 'the late lead gives its call its source');
  // And every stored call against the source's own leads, computed here.
  const sources = new Map((source.prepare(`SELECT id, source FROM leads`).all() as { id: number; source: string | null }[]).map((l) => [l.id, l.source]));
  const stored = await third.store.all(`SELECT id, lead_id, lead_source FROM calls`);
  const wrong = stored.filter((c) => c.lead_source !== (c.lead_id === null ? null : sources.get(Number(c.lead_id)) ?? null));
  t.equal(stored.length > 100 && wrong.length, 0, 'every call\'s lead_source is its lead\'s');
  await third.store.close();
  source.prepare(`DELETE FROM calls WHERE id = ?`).run(call);
  source.prepare(`DELETE FROM leads WHERE id = ?`).run(late);
});

t.test('changes inside the watermark\'s own second arrive; rows already loaded there are not counted again', async (t) => {
  const file = path.join(dir, 'same-second.duckdb');
  const first = await syncInto(file, sourceFile);
  const [mark] = await first.store.all(`SELECT cursor_ms, cursor_id FROM sync_state WHERE table_name = 'calls'`);
  first.store.close();
  const at = new Date(Number(mark.cursor_ms)).toISOString();
  // Nothing changed: the run re-reads the watermark's second and loads nothing.
  const idle = await syncInto(file, sourceFile);
  t.equal(idle.result.tables.calls.read, 0, 'the re-read rows are not new');
  idle.store.close();
  // A call written in the watermark's very millisecond, with a higher id.
  const { id: top } = source.prepare(`SELECT max(id) AS id FROM calls`).get() as { id: number };
  const cols = (source.prepare(`SELECT name FROM pragma_table_info('calls')`).all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id' && c !== 'updated_at');
  source.prepare(`INSERT INTO calls (id, updated_at, ${cols.join(', ')}) SELECT ?, ?, ${cols.join(', ')} FROM calls WHERE id = ?`).run(top + 1, at, Number(mark.cursor_id));
  const { store, result } = await syncInto(file, sourceFile);
  t.equal(result.tables.calls.upserted, 1, 'the new call, and only it');
  const [row] = await store.all(`SELECT count(*)::INTEGER AS n FROM calls WHERE id = $id`, { id: top + 1 });
  t.equal(row.n, 1, 'is in the store');
  await store.close();
  source.prepare(`DELETE FROM calls WHERE id = ?`).run(top + 1);
});

t.test('the roll-ups equal the calls and leads they summarise after every kind of change', async (t) => {
  const file = path.join(dir, 'slots.duckdb');
  const first = await syncInto(file, sourceFile, 900);
  await checkRollups(t, first.store, 'after the first sync');
  await first.store.close();
  const changedAt = new Date(FIXTURE_NOW.getTime() + 90_000).toISOString();
  const [a, b, c] = source.prepare(`SELECT id, agent_id FROM calls WHERE direction = 'outbound' AND status <> 'blocked' AND agent_id IS NOT NULL AND lead_id IS NOT NULL ORDER BY id LIMIT 3`).all() as { id: number; agent_id: number }[];
  // A call moved to the day before its lead was created, another given to another agent,
  // a third blocked after the fact.
  source.prepare(`UPDATE calls SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', (SELECT created_at FROM leads WHERE id = calls.lead_id), '-1 day'),
    updated_at = ? WHERE id = ?`).run(changedAt, a.id);
  const otherAgent = source.prepare(`SELECT id FROM agents WHERE account_id = (SELECT account_id FROM calls WHERE id = ?) AND id <> ? ORDER BY id LIMIT 1`).get(b.id, b.agent_id) as { id: number };
  source.prepare(`UPDATE calls SET agent_id = ?, updated_at = ? WHERE id = ?`).run(otherAgent.id, changedAt, b.id);
  source.prepare(`UPDATE calls SET status = 'blocked', answered_at = NULL, updated_at = ? WHERE id = ?`).run(changedAt, c.id);
  // Leads: one gets another source and is created three hours earlier (another slot),
  // another is deleted; lead_slots follows both.
  const [movedLead, deletedLead] = source.prepare(`SELECT id FROM leads WHERE deleted_at IS NULL AND id IN (SELECT lead_id FROM calls) ORDER BY id DESC LIMIT 2`).all() as { id: number }[];
  source.prepare(`UPDATE leads SET source = 'moved_source', created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '-3 hours'), updated_at = ? WHERE id = ?`).run(changedAt, movedLead.id);
  source.prepare(`UPDATE leads SET deleted_at = ?, updated_at = ? WHERE id = ?`).run(changedAt, changedAt, deletedLead.id);
  // A disposition that stops converting changes the conversions of every call that used it.
  source.prepare(`UPDATE dispositions SET is_conversion = 1 - is_conversion, updated_at = ? WHERE id = (SELECT min(id) FROM dispositions WHERE code IN (SELECT disposition_code FROM calls))`).run(changedAt);
  // Billing: a call re-priced, a call charged twice, an SMS never charged, and usage for a
  // call the source has not delivered yet (an orphan until the next sync brings the call).
  const ledgerId = (source.prepare(`SELECT max(id) AS m FROM credit_transactions`).get() as { m: number }).m;
  const priced = source.prepare(`SELECT c.id, c.account_id, c.credits FROM calls c WHERE CAST(credits AS REAL) > 0
    AND EXISTS (SELECT 1 FROM credit_transactions t WHERE t.ref_type = 'call' AND t.ref_id = c.id) ORDER BY id LIMIT 2`).all() as { id: number; account_id: number; credits: string }[];
  source.prepare(`UPDATE calls SET credits = '9.8765', updated_at = ? WHERE id = ?`).run(changedAt, priced[0].id);
  const addUsage = source.prepare(`INSERT INTO credit_transactions (id, account_id, kind, credits, amount, ref_type, ref_id, created_at) VALUES (?, ?, 'usage', ?, '0', ?, ?, ?)`);
  addUsage.run(ledgerId + 1, priced[1].account_id, `-${priced[1].credits}`, 'call', priced[1].id, changedAt);
  const lateCall = (source.prepare(`SELECT max(id) AS m FROM calls`).get() as { m: number }).m + 1;
  addUsage.run(ledgerId + 2, priced[1].account_id, '-0.5000', 'call', lateCall, changedAt);
  const smsId = (source.prepare(`SELECT max(id) AS m FROM sms_messages`).get() as { m: number }).m + 1;
  source.prepare(`INSERT INTO sms_messages SELECT ? AS id, account_id, campaign_id, to_number, status, sent_at, segments, '0.0700', cost, ?
    FROM sms_messages ORDER BY id LIMIT 1`).run(smsId, changedAt);
  const second = await syncInto(file, sourceFile, 900);
  t.ok(second.result.tables.dispositions.upserted >= 1 && second.result.tables.calls.upserted === 3, 'the changes were synced');
  for (const table of ['calls', 'leads', 'dispositions']) {
    const [{ dupes }] = await second.store.all(`SELECT (count(*) - count(DISTINCT id))::INTEGER AS dupes FROM ${table}`);
    t.equal(dupes, 0, `${table}: a replaced row leaves no duplicate`);
  }
  await checkRollups(t, second.store, 'after the changes');
  const activity = await storedLeadActivity(second.store);
  t.ok(activity.some((r) => r.split('|')[1] === 'true'), 'the call moved before its lead was created made that lead irregular');
  const issue = async (store: Store, type: string, id: number) =>
    (await store.all(`SELECT problem FROM billing_issues WHERE ref_type = $type AND ref_id = $id`, { type, id })).map((r) => r.problem);
  t.same(await issue(second.store, 'call', priced[0].id), ['credits_differ'], 'the re-priced call differs from its charge');
  t.same(await issue(second.store, 'call', priced[1].id), ['credits_differ'], 'the call charged twice differs');
  t.same(await issue(second.store, 'sms', smsId), ['record_without_usage'], 'the SMS never charged');
  t.same(await issue(second.store, 'call', lateCall), ['usage_without_record'], 'usage for a call not yet delivered');
  await second.store.close();
  // The call arrives: its usage is no longer an orphan, and the call matches its charge.
  source.prepare(`INSERT INTO calls SELECT ? AS id, account_id, campaign_id, lead_id, agent_id, caller_id_id, direction, product, from_number,
    to_number, origin, attribution, status, started_at, answered_at, ended_at, talk_sec, wrap_sec, message_sec, playback_sec,
    disposition_code, '0.5000', cost, ? FROM calls WHERE account_id = ? ORDER BY id LIMIT 1`).run(lateCall, new Date(FIXTURE_NOW.getTime() + 120_000).toISOString(), priced[1].account_id);
  const third = await syncInto(file, sourceFile, 900);
  t.equal(third.result.tables.calls.upserted, 1, 'the late call was synced');
  await checkRollups(t, third.store, 'after the late call');
  t.same(await issue(third.store, 'call', lateCall), [], 'the late call matches the usage synced before it');
  await third.store.close();
  // A call with an issue moves in time (the issue's time follows); another changes only its
  // duration (its issue stays as it was).
  const fourthAt = new Date(FIXTURE_NOW.getTime() + 180_000).toISOString();
  const before = source.prepare(`SELECT id, started_at, talk_sec, updated_at FROM calls WHERE id IN (?, ?)`).all(priced[0].id, priced[1].id) as Record<string, unknown>[];
  // The later tests share the source and expect nothing changed after FIXTURE_NOW + 2 min.
  t.teardown(() => {
    for (const r of before) source.prepare(`UPDATE calls SET started_at = ?, talk_sec = ?, updated_at = ? WHERE id = ?`).run(r.started_at, r.talk_sec, r.updated_at, r.id);
  });
  source.prepare(`UPDATE calls SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', started_at, '-2 hours'), updated_at = ? WHERE id = ?`).run(fourthAt, priced[0].id);
  source.prepare(`UPDATE calls SET talk_sec = talk_sec + 11, updated_at = ? WHERE id = ?`).run(fourthAt, priced[1].id);
  const fourth = await syncInto(file, sourceFile, 900);
  t.equal(fourth.result.tables.calls.upserted, 2, 'both changed calls were synced');
  await checkRollups(t, fourth.store, 'after a call with an issue moved and another changed its duration');
  const [moved] = await fourth.store.all(`SELECT i."at" = c.started_at AS same FROM billing_issues i JOIN calls c ON c.id = i.ref_id WHERE i.ref_type = 'call' AND i.ref_id = $id`, { id: priced[0].id });
  t.equal(moved?.same, true, 'the issue of the moved call carries its new start');
  t.same(await issue(fourth.store, 'call', priced[1].id), ['credits_differ'], 'the call whose duration changed still differs from its charge');
  await fourth.store.close();
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
