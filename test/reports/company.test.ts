import t from 'tap';
import { FIXTURE_NOW, makeApp, sourceRows } from '../helpers/fixture.ts';
import { pct } from '../helpers/oracle.ts';

// Top-ups are rare at this scale: add a purchase inside every window the tests ask for,
// and one just before the shortest window, which must not count in it.
const ctx = await makeApp('company', 6000, (db) => {
  const next = (db.prepare('SELECT max(id) AS m FROM credit_transactions').get() as { m: number }).m;
  const add = db.prepare(`INSERT INTO credit_transactions (id, account_id, kind, credits, amount, ref_type, ref_id, created_at) VALUES (?, 1, 'purchase', ?, '10.0000', NULL, NULL, ?)`);
  add.run(next + 1, '1234.5000', new Date(FIXTURE_NOW.getTime() - 3_600_000).toISOString());
  add.run(next + 2, '100.0001', new Date(FIXTURE_NOW.getTime() - 86_400_000 - 60_000).toISOString());
});
t.teardown(ctx.close);

const DAY = 86_400_000;
const STATUSES = ['completed', 'hungup', 'unanswered', 'busy', 'rejected', 'failed', 'terminated', 'abandoned', 'blocked'];

/** A decimal string of the source as an integer count of 1/10,000 (credits are exact). */
function units(s: string | number): number {
  const [int, frac = ''] = String(s).replace('-', '').split('.');
  const v = Number(int) * 10_000 + Number((frac + '0000').slice(0, 4));
  return String(s).startsWith('-') ? -v : v;
}

function hms(sec: number): string {
  const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  return [h, m, s].map((v) => String(v).padStart(2, '0')).join(':');
}

/** The company dashboard of METRICS.md, from the source rows. */
function expectedDashboard(accounts: number[], days: number, sourceFile = ctx.sourceFile, at = FIXTURE_NOW) {
  const now = at.getTime();
  const from = now - days * DAY;
  const mine = (r: Record<string, any>) => accounts.includes(r.account_id);
  const calls = sourceRows(sourceFile, 'calls').filter((c) => mine(c) && Date.parse(c.started_at) >= from && Date.parse(c.started_at) < now);
  const outbound = calls.filter((c) => c.direction === 'outbound');
  const dials = outbound.filter((c) => c.status !== 'blocked');
  const ledger = sourceRows(sourceFile, 'credit_transactions').filter((r) => mine(r) && Date.parse(r.created_at) < now);
  const inWindow = ledger.filter((r) => Date.parse(r.created_at) >= from);
  const sum = (rows: Record<string, any>[]) => rows.reduce((s, r) => s + units(r.credits), 0);
  const purchased = sum(inWindow.filter((r) => r.kind === 'purchase'));
  const used = -sum(inWindow.filter((r) => r.kind === 'usage'));
  const campaigns = sourceRows(sourceFile, 'campaigns').filter((c) => mine(c) && c.deleted_at === null);
  const played = dials.filter((c) => c.message_sec !== null && c.message_sec > 0).map((c) => ({ sec: c.playback_sec ?? 0, pct: ((c.playback_sec ?? 0) / c.message_sec) * 100 }));
  const meanPct = played.length ? played.reduce((s, p) => s + p.pct, 0) / played.length : 0;

  let top: { id: number; name: string; dials: number; completed: number } | null = null;
  for (const c of campaigns) {
    const own = dials.filter((d) => d.campaign_id === c.id);
    if (own.length === 0) continue;
    const cand = { id: c.id, name: c.name, dials: own.length, completed: own.filter((d) => d.status === 'completed').length };
    // Exact comparison of completed/dials by cross-multiplication.
    const better = !top || cand.completed * top.dials > top.completed * cand.dials ||
      (cand.completed * top.dials === top.completed * cand.dials && (cand.dials > top.dials || (cand.dials === top.dials && cand.id < top.id)));
    if (better) top = cand;
  }

  const overtime: { date: string; credits: number }[] = [];
  for (let d = Math.floor(from / DAY) * DAY; d < now; d += DAY) {
    const day = inWindow.filter((r) => r.kind === 'usage' && Date.parse(r.created_at) >= d && Date.parse(r.created_at) < d + DAY);
    overtime.push({ date: new Date(d).toISOString().slice(0, 10), credits: -sum(day) / 10_000 });
  }
  return {
    total_credits_purchased: purchased / 10_000,
    credits_used: used / 10_000,
    remaining_credits: sum(ledger) / 10_000,
    campaigns: {
      total: campaigns.length,
      ...Object.fromEntries(['draft', 'active', 'paused', 'completed'].map((s) => [s, campaigns.filter((c) => c.status === s).length])),
    },
    outbound_calls: dials.length,
    outbound_sms: sourceRows(sourceFile, 'sms_messages').filter((s) => mine(s) && Date.parse(s.sent_at) >= from && Date.parse(s.sent_at) < now).length,
    total_call_duration: hms(dials.filter((c) => c.answered_at !== null).reduce((s, c) => s + c.talk_sec, 0)),
    total_owned_numbers: sourceRows(sourceFile, 'phone_numbers').filter((n) => mine(n) && n.released_at === null).length,
    total_playback: {
      messages_played: played.filter((p) => p.sec > 0).length,
      playback_sec: played.reduce((s, p) => s + p.sec, 0),
      average_playback_pct: Math.round(meanPct * 100) / 100,
    },
    credit_spent: pct(used, dials.length * 10_000, 3, 1),
    top_performing_campaign: top ? { id: top.id, name: top.name, completion_pct: pct(top.completed, top.dials, 2) } : {},
    playback_distribution: {
      '0-25': played.filter((p) => p.pct < 25).length,
      '25-50': played.filter((p) => p.pct >= 25 && p.pct < 50).length,
      '50-75': played.filter((p) => p.pct >= 50 && p.pct < 75).length,
      '75-100': played.filter((p) => p.pct >= 75).length,
    },
    campaign_type_ratio: Object.fromEntries(['voice_broadcast', 'sms', 'telesales', 'inbound'].map((k) => [k, campaigns.filter((c) => c.type === k).length])),
    call_outcomes: Object.fromEntries(STATUSES.map((s) => [s, outbound.filter((c) => c.status === s).length])),
    credit_usage_overtime: overtime,
  };
}

t.test('the company dashboard matches METRICS.md computed from the source', async (t) => {
  for (const days of [30, 1, 7, 366]) {
    const res = await ctx.get(`/api/v1/dashboard/?days=${days}`, 'acct1@test');
    t.equal(res.status, 200, `days=${days}`);
    const want = expectedDashboard([1], days);
    t.same(res.body, want, `account 1, days=${days}`);
    t.strictSame(Object.keys(res.body), Object.keys(want), 'every key of the seed, in its order');
  }
  const d = (await ctx.get('/api/v1/dashboard/', 'acct1@test')).body;
  t.equal(d.credit_usage_overtime.length, 31, 'days defaults to 30: 30 × 24 h touch 31 UTC days');
  t.ok(d.outbound_calls > 0 && d.total_playback.messages_played > 0 && d.credits_used > 0, 'the fixture exercises the figures');
  t.equal(d.total_credits_purchased, 1334.5001, 'purchases of the window, exactly');
  t.not(d.top_performing_campaign.id, undefined, 'a top campaign');
  t.same((await ctx.get('/api/v1/dashboard?days=30&account_id=2', 'admin@test')).body, expectedDashboard([2], 30), 'an admin names the account');
});

t.test('a window ending between two 15-minute slots counts its partial end slots exactly', async (t) => {
  // Now at 11:52:46.5Z: the roll-ups serve the window's whole slots, the rows themselves
  // its first and last partial ones. Calls and ledger rows are put a minute inside and a
  // minute outside both ends of the 7-day window.
  const oddNow = new Date(FIXTURE_NOW.getTime() - 433_500);
  const from = oddNow.getTime() - 7 * DAY;
  const odd = await makeApp('company-odd', 6000, (db) => {
    const call = db.prepare(`SELECT * FROM calls WHERE account_id = 1 AND direction = 'outbound' AND status = 'completed' AND message_sec > 0 ORDER BY id LIMIT 1`).get() as Record<string, unknown>;
    let callId = (db.prepare('SELECT max(id) AS m FROM calls').get() as { m: number }).m;
    let ledgerId = (db.prepare('SELECT max(id) AS m FROM credit_transactions').get() as { m: number }).m;
    const cols = Object.keys(call);
    const addCall = db.prepare(`INSERT INTO calls (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
    const addLedger = db.prepare(`INSERT INTO credit_transactions (id, account_id, kind, credits, amount, ref_type, ref_id, created_at) VALUES (?, 1, ?, ?, '1.0000', NULL, NULL, ?)`);
    for (const ms of [oddNow.getTime() - 60_000, oddNow.getTime() + 60_000, from + 60_000, from - 60_000]) {
      const iso = (d: number) => new Date(d).toISOString();
      addCall.run({ ...call, id: ++callId, started_at: iso(ms), answered_at: iso(ms + 5_000), ended_at: iso(ms + 65_000), playback_sec: 7 });
      addLedger.run(++ledgerId, 'usage', '-0.3333', iso(ms));
      addLedger.run(++ledgerId, 'purchase', '7.0001', iso(ms));
    }
  }, { now: () => oddNow });
  t.teardown(odd.close);
  const res = await odd.get('/api/v1/dashboard/?days=7', 'acct1@test');
  t.equal(res.status, 200);
  t.same(res.body, expectedDashboard([1], 7, odd.sourceFile, oddNow), 'the same figures as from the rows');
});

t.test('the dashboard of an account with no activity is zeros, not nulls', async (t) => {
  const res = await ctx.get('/api/v1/dashboard/?days=1', 'acct2@test');
  t.equal(res.status, 200);
  t.same(res.body, expectedDashboard([2], 1));
});

t.test('dashboard validation and scope', async (t) => {
  for (const [q, field] of [['days=0', 'days'], ['days=367', 'days'], ['days=abc', 'days'], ['days=3&date_from=2026-01-01', 'date_from']]) {
    const res = await ctx.get(`/api/v1/dashboard/?${q}`, 'acct1@test');
    t.equal(res.status, 422, q);
    t.ok(res.body.errors[field], `${q} names ${field}`);
  }
  t.equal((await ctx.get('/api/v1/dashboard/?account_id=2', 'acct1@test')).status, 404, 'another account is a 404');
  const anon = await ctx.app.inject({ method: 'GET', url: '/api/v1/dashboard/' });
  t.equal(anon.statusCode, 401);
});
