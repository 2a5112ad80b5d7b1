import t from 'tap';
import { DateTime } from 'luxon';
import { FIXTURE_NOW, makeApp } from '../helpers/fixture.ts';
import { Oracle, type Filter } from '../helpers/oracle.ts';
import { ReportEngine } from '../../src/reports/engine.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';

// Irregular leads, which the generator never makes, each with a single call: one whose
// call is in another campaign than the lead's (seen by the campaign-filter case), one
// whose call was placed before the lead was created and before the 30-day windows start.
const nonDialConversions: number[] = [];
const ctx = await makeApp('reports', 8000, (db) => {
  const single = (where: string) => db.prepare(`SELECT c.id, l.campaign_id FROM leads l JOIN calls c ON c.lead_id = l.id
    WHERE l.account_id = 1 AND l.deleted_at IS NULL AND ${where}
      AND (SELECT count(*) FROM calls x WHERE x.lead_id = l.id) = 1
      AND c.direction = 'outbound' AND c.status <> 'blocked'
    ORDER BY l.id LIMIT 1`).get() as { id: number; campaign_id: number };
  const filtered = db.prepare(`SELECT id FROM campaigns WHERE account_id = 1 AND type = 'telesales' AND deleted_at IS NULL ORDER BY id LIMIT 1`).get() as { id: number };
  const a = single(`l.campaign_id = ${filtered.id} AND l.created_at >= '2026-10-05' AND l.created_at < '2026-11-25'`);
  const other = db.prepare(`SELECT id FROM campaigns WHERE account_id = 1 AND id <> ? ORDER BY id LIMIT 1`).get(a.campaign_id) as { id: number };
  db.prepare(`UPDATE calls SET campaign_id = ? WHERE id = ?`).run(other.id, a.id);
  const b = single(`l.created_at >= '2026-11-16' AND l.created_at < '2026-12-10'`);
  db.prepare(`UPDATE calls SET started_at = '2026-11-10T15:00:00.000Z', answered_at = CASE WHEN answered_at IS NULL THEN NULL ELSE '2026-11-10T15:00:05.000Z' END WHERE id = ?`).run(b.id);
  // A conversion is a dial: leads of the first window (none converted by a dial) whose only
  // converting calls are blocked or inbound ones.
  const code = (db.prepare(`SELECT code FROM dispositions WHERE account_id = 1 AND is_conversion = 1 ORDER BY id LIMIT 1`).get() as { code: string }).code;
  const unconverted = `l.account_id = 1 AND l.deleted_at IS NULL AND l.created_at >= '2026-11-15' AND l.created_at < '2026-12-10'
    AND NOT EXISTS (SELECT 1 FROM calls x JOIN dispositions d ON d.account_id = x.account_id AND d.code = x.disposition_code WHERE x.lead_id = l.id AND d.is_conversion = 1)`;
  const blocked = db.prepare(`SELECT c.id FROM calls c JOIN leads l ON l.id = c.lead_id WHERE ${unconverted} AND c.status = 'blocked' AND c.started_at >= l.created_at AND c.started_at < '2026-12-14' ORDER BY c.id LIMIT 2`).all() as { id: number }[];
  const inbound = db.prepare(`SELECT c.id FROM calls c JOIN leads l ON l.id = c.lead_id WHERE ${unconverted} AND c.status = 'completed' AND c.started_at >= l.created_at AND c.started_at < '2026-12-14' ORDER BY c.id DESC LIMIT 2`).all() as { id: number }[];
  for (const { id } of blocked) db.prepare(`UPDATE calls SET disposition_code = ? WHERE id = ?`).run(code, id);
  for (const { id } of inbound) db.prepare(`UPDATE calls SET disposition_code = ?, direction = 'inbound' WHERE id = ?`).run(code, id);
  nonDialConversions.push(...[...blocked, ...inbound].map((c) => c.id));
});
t.teardown(ctx.close);
const oracle = new Oracle(ctx.sourceFile);

interface Case {
  name: string;
  user: string;
  query: Record<string, string | string[]>;
  filter: Filter;
}

const local = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();
const ALL = [1, 2, 3, 4, 5, 6];
const NY = 'America/New_York';

// Agent and team ids of account 1, taken from the source.
const acct1Agents = oracle.agents.filter((a) => a.account_id === 1);
const team = acct1Agents.find((a) => a.team_id !== null)!.team_id as number;
const twoAgents = acct1Agents.filter((a) => a.deleted_at === null).slice(0, 2).map((a) => a.id as number);
const campaign = oracle.campaigns.find((c) => c.account_id === 1 && c.type === 'telesales' && c.deleted_at === null)!.id as number;

// A window whose bounds fall inside 15-minute slots, a minute either side of two leads'
// creation: its end slots are counted lead by lead, and leads created before its end
// reached stages after it.
const edgeLeads = oracle.leads.filter((l) => l.account_id === 1 && l.deleted_at === null).map((l) => Date.parse(l.created_at)).sort((a, b) => a - b);
const edgeFrom = edgeLeads.find((ms) => ms >= Date.parse('2026-10-10T00:00:00Z'))! - 60_000;
const edgeTo = edgeLeads.find((ms) => ms >= Date.parse('2026-11-20T00:00:00Z'))! + 60_000;

const cases: Case[] = [
  {
    name: 'admin, all accounts, UTC, 30 days',
    user: 'admin@test', query: { date_from: '2026-11-15', date_to: '2026-12-14' },
    filter: { accounts: ALL, from: Date.parse('2026-11-15T00:00:00Z'), to: Date.parse('2026-12-15T00:00:00Z'), tz: 'UTC' },
  },
  {
    name: 'account user, New York, window over the DST change of 2026-11-01',
    user: 'acct1@test', query: { date_from: '2026-10-20', date_to: '2026-11-10', timezone: NY },
    filter: { accounts: [1], from: local('2026-10-20', NY), to: local('2026-11-11', NY), tz: NY },
  },
  {
    name: 'account user, campaign filter, timestamps with offsets',
    user: 'acct1@test', query: { date_from: '2026-10-01T08:30:00-04:00', date_to: '2026-12-01T17:00:00Z', campaign_id: String(campaign), timezone: NY },
    filter: { accounts: [1], from: Date.parse('2026-10-01T12:30:00Z'), to: Date.parse('2026-12-01T17:00:00Z'), tz: NY, campaignId: campaign },
  },
  {
    name: 'account user, bounds inside 15-minute slots',
    user: 'acct1@test', query: { date_from: new Date(edgeFrom).toISOString(), date_to: new Date(edgeTo).toISOString(), timezone: NY },
    filter: { accounts: [1], from: edgeFrom, to: edgeTo, tz: NY },
  },
  {
    name: 'agent_ids[] filter, local timestamps without offset',
    user: 'acct1@test', query: { date_from: '2026-11-01T00:00:00', date_to: '2026-12-31T23:00:00', 'agent_ids[]': twoAgents.map(String), timezone: NY },
    filter: { accounts: [1], from: local('2026-11-01T00:00:00', NY), to: local('2026-12-31T23:00:00', NY), tz: NY, agentIds: twoAgents },
  },
  {
    name: 'team filter, London',
    user: 'admin@test', query: { date_from: '2026-10-10', date_to: '2026-12-31', team_id: String(team), timezone: 'Europe/London' },
    filter: { accounts: ALL, from: local('2026-10-10', 'Europe/London'), to: local('2027-01-01', 'Europe/London'), tz: 'Europe/London', teamId: team },
  },
  {
    name: 'partner 1 scope, Kolkata (30-minute offset)',
    user: 'partner1@test', query: { date_from: '2026-12-01', date_to: '2027-01-10', timezone: 'Asia/Kolkata' },
    filter: { accounts: [1, 3], from: local('2026-12-01', 'Asia/Kolkata'), to: local('2027-01-11', 'Asia/Kolkata'), tz: 'Asia/Kolkata' },
  },
  {
    name: 'admin narrowed to account 5, Kathmandu (45-minute offset)',
    user: 'admin@test', query: { date_from: '2026-12-01', date_to: '2027-01-10', timezone: 'Asia/Kathmandu', account_id: '5' },
    filter: { accounts: [5], from: local('2026-12-01', 'Asia/Kathmandu'), to: local('2027-01-11', 'Asia/Kathmandu'), tz: 'Asia/Kathmandu' },
  },
];

const qs = (q: Record<string, string | string[]>) =>
  Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)).join('&');

for (const c of cases) {
  t.test(c.name, async (t) => {
    const get = async (report: string, extra: Record<string, string> = {}) => {
      const res = await ctx.get(`/api/telesales/reports/${report}?${qs({ ...c.query, ...extra })}`, c.user);
      t.equal(res.status, 200, `${report} answers 200`);
      return res.body.data;
    };
    const dash = await get('dashboard');
    t.same(dash, oracle.dashboard(c.filter), 'dashboard');
    t.ok(dash.total_dials > 0, 'the case has dials (it can fail)');
    t.same(await get('disposition-breakdown'), oracle.dispositionBreakdown(c.filter), 'disposition-breakdown');
    t.same(await get('agent-performance'), oracle.agentPerformance(c.filter), 'agent-performance');
    t.same(await get('funnel'), oracle.funnel(c.filter), 'funnel');
    t.same(await get('lead-source-attribution'), oracle.leadSourceAttribution(c.filter), 'lead-source-attribution');
    t.same(await get('caller-id-health'), oracle.callerIdHealth(c.filter, FIXTURE_NOW), 'caller-id-health');
    const heat = await get('hour-dow-heatmap');
    t.equal(heat.length, 168);
    t.same(heat, oracle.heatmap(c.filter), 'hour-dow-heatmap');
    for (const g of ['day', 'week', 'hour'] as const) {
      t.same(await get('time-series', { group_by: g }), oracle.timeSeries(c.filter, g), `time-series by ${g}`);
    }
  });
}

t.test('a conversion is a dial: converting blocked and inbound calls convert no lead', async (t) => {
  t.equal(nonDialConversions.length, 4, 'two blocked and two inbound calls carry a converting disposition');
  const filter = cases[0].filter;
  const moved = oracle.calls.filter((c) => nonDialConversions.includes(c.id));
  t.ok(moved.every((c) => oracle.isConversion(c) && !oracle.isDial(c) && c.started >= filter.from && c.started < filter.to));
  const { body } = await ctx.get(`/api/telesales/reports/funnel?${qs(cases[0].query)}`, 'admin@test');
  t.same(body.data, oracle.funnel(filter));
  const byAnyCall = new Set(oracle.window(filter).filter((c) => oracle.isConversion(c) && c.lead_id !== null).map((c) => c.lead_id));
  t.ok(body.data[5].count < oracle.leads.filter((l) => byAnyCall.has(l.id) && l.deleted_at === null && ALL.includes(l.account_id)
    && Date.parse(l.created_at) >= filter.from && Date.parse(l.created_at) < filter.to).length, 'fewer than counting any converting call');
});

t.test('value types are exactly those of METRICS.md', async (t) => {
  const { body } = await ctx.get(`/api/telesales/reports/dashboard?${qs(cases[0].query)}`, 'admin@test');
  t.type(body.data.answer_rate_pct, 'string');
  t.match(body.data.answer_rate_pct, /^\d+\.\d\d$/);
  t.match(body.data.avg_talk_time_sec, /^\d+\.\d$/);
  t.type(body.data.total_talk_time_sec, 'string');
  t.type(body.data.total_dials, 'number');
  const agents = (await ctx.get(`/api/telesales/reports/agent-performance?${qs(cases[0].query)}`, 'admin@test')).body.data;
  t.type(agents[0].conv_rate, 'number');
  t.type(agents[0].avg_aht_sec, 'number');
  t.ok(Number.isInteger(agents[0].avg_aht_sec));
});

t.test('the week series crosses the ISO week-year boundary', async (t) => {
  const { body } = await ctx.get(`/api/telesales/reports/time-series?date_from=2026-12-20&date_to=2027-01-10&group_by=week`, 'admin@test');
  t.same(body.data.map((r: { bucket: string }) => r.bucket), ['2026-W51', '2026-W52', '2026-W53', '2027-W01']);
});

t.test('the New York day of the DST change has 25 hours of buckets', async (t) => {
  const { body } = await ctx.get(`/api/telesales/reports/time-series?date_from=2026-11-01&date_to=2026-11-01&group_by=hour&timezone=${NY}`, 'acct1@test');
  // 01:00 happens twice and is one bucket: 24 labels covering 25 hours.
  t.equal(body.data.length, 24);
  t.equal(body.data[1].bucket, '2026-11-01 01:00:00');
});

t.test('abandon-rate of several campaigns in one query answers as each request does', async (t) => {
  const engine = new ReportEngine(ctx.store, () => FIXTURE_NOW);
  const decl = reportCatalogue().find((d) => d.family === 'telesales' && d.name === 'abandon-rate')!;
  const who = { userId: 0, email: 'acct1@test', role: 'account' as const, accountId: 1, partnerId: null };
  const mine = oracle.campaigns.filter((c) => c.account_id === 1 && c.deleted_at === null).map((c) => c.id as number);
  const deleted = oracle.campaigns.find((c) => c.account_id === 1 && c.deleted_at !== null)!.id as number;
  const foreign = oracle.campaigns.find((c) => c.account_id === 2)!.id as number;
  t.ok(mine.length >= 3, 'account 1 has several campaigns');
  const bodies = await engine.batch(decl, { window_minutes: '20000' }, who, [...mine, deleted, foreign]);
  t.same([...bodies.keys()].sort((a, b) => a - b), [...mine].sort((a, b) => a - b), "every campaign of the account, not a deleted one nor another account's");
  t.equal((await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${deleted}`, 'acct1@test')).status, 404, 'as a request for the deleted one is a 404');
  for (const id of mine) {
    const { status, body } = await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${id}&window_minutes=20000`, 'acct1@test');
    t.equal(status, 200);
    t.same(bodies.get(id), body, `campaign ${id}`);
    // Its figures counted from the source rows, not from the SQL under test.
    const from = FIXTURE_NOW.getTime() - 20_000 * 60_000;
    const answered = oracle.calls.filter((k) => k.campaign_id === id && oracle.isDial(k) && k.answered && k.started >= from && k.started < FIXTURE_NOW.getTime());
    const current = (bodies.get(id) as { data: { current: Record<string, unknown> } }).data.current;
    t.same([current.attempts_total, current.attempts_abandoned], [answered.length, answered.filter((k) => k.status === 'abandoned').length], `campaign ${id}: answered and abandoned dials`);
  }
  t.ok(mine.some((id) => (bodies.get(id) as { data: { current: { attempts_total: number } } }).data.current.attempts_total > 0), 'a campaign has answered dials');
  t.ok(mine.some((id) => (bodies.get(id) as { data: { current: { attempts_total: number } } }).data.current.attempts_total === 0), 'and one has none');
});

t.test('abandon-rate', async (t) => {
  const c = oracle.campaigns.find((x) => x.account_id === 1 && x.name.startsWith('Renewals'))!;
  const { status, body } = await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${c.id}`, 'acct1@test');
  t.equal(status, 200);
  const from = FIXTURE_NOW.getTime() - 43_200 * 60_000;
  const answered = oracle.calls.filter((k) => k.campaign_id === c.id && oracle.isDial(k) && k.answered && k.started >= from && k.started < FIXTURE_NOW.getTime());
  const abandoned = answered.filter((k) => k.status === 'abandoned').length;
  t.same(body.data.current, {
    campaign_id: c.id, attempts_total: answered.length, attempts_abandoned: abandoned,
    abandon_rate_pct: Number(((abandoned * 100) / answered.length).toFixed(2)), window_minutes: 43200,
    window_from: '2026-12-11 12:00:00', window_to: '2027-01-10 12:00:00', tenant_id: 1, campaign_name: c.name,
    campaign_status: c.status, limit_pct: Number(c.abandon_limit_pct), breached: abandoned * 100 > Number(c.abandon_limit_pct) * answered.length,
  });
  t.ok(answered.length > 0);
  const { breached, window_to, attempts_total, attempts_abandoned, abandon_rate_pct, limit_pct } = body.data.current;
  t.ok(breached, 'the campaign is over its limit now');
  t.same(body.data.breaches, [{ snapshot_at: window_to, attempts_total, attempts_abandoned, abandon_rate_pct, limit_pct }], 'so its breach is listed before any snapshot');
  const other = await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${c.id}`, 'acct2@test');
  t.equal(other.status, 404, "another account's campaign is a 404");
});
