import t from 'tap';
import { DateTime } from 'luxon';
import { FIXTURE_NOW, makeApp } from '../helpers/fixture.ts';
import { Oracle, type Filter } from '../helpers/oracle.ts';

// The reports served from the 15-minute slot roll-ups count a window [from, to) to the
// millisecond: six dials of account 1 are moved to 1 ms before, at and 1 ms after each
// bound, both bounds inside a slot, and every report must agree with the oracle, which
// filters the source's calls by their exact start.
const FROM = Date.parse('2026-11-16T08:04:42.001Z');
const TO = Date.parse('2026-11-20T13:37:12.500Z');
const MOVED = [FROM - 1, FROM, FROM + 1, TO - 1, TO, TO + 1];

const ctx = await makeApp('exact-windows', 6000, (db) => {
  const picks = db.prepare(`SELECT id FROM calls WHERE account_id = 1 AND direction = 'outbound' AND status = 'completed'
      AND agent_id IS NOT NULL AND caller_id_id IS NOT NULL AND disposition_code IS NOT NULL AND lead_id IS NOT NULL
    ORDER BY id LIMIT ${MOVED.length}`).all() as { id: number }[];
  const move = db.prepare(`UPDATE calls SET started_at = ?, answered_at = ?, ended_at = ? WHERE id = ?`);
  picks.forEach((p, i) => {
    const at = MOVED[i];
    move.run(new Date(at).toISOString(), new Date(at + 3_000).toISOString(), new Date(at + 120_000).toISOString(), p.id);
  });
});
t.teardown(ctx.close);
const oracle = new Oracle(ctx.sourceFile);

const iso = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toISO({ includeOffset: true })!;
const wall = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS");

const forms: { name: string; tz: string; from: string; to: string }[] = [
  { name: 'Z instants', tz: 'UTC', from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() },
  { name: 'offsets (+05:45), reported in New York', tz: 'America/New_York', from: iso(FROM, 'Asia/Kathmandu'), to: iso(TO, 'Asia/Kathmandu') },
  { name: 'local times in Asia/Kolkata', tz: 'Asia/Kolkata', from: wall(FROM, 'Asia/Kolkata'), to: wall(TO, 'Asia/Kolkata') },
  { name: 'local times in Pacific/Chatham', tz: 'Pacific/Chatham', from: wall(FROM, 'Pacific/Chatham'), to: wall(TO, 'Pacific/Chatham') },
];

t.test('the moved calls sit inside the slots of the bounds', async (t) => {
  t.not(FROM % 900_000, 0);
  t.not(TO % 900_000, 0);
  const moved = oracle.calls.filter((c) => MOVED.includes(c.started));
  t.equal(moved.length, MOVED.length, 'six dials were moved');
  t.equal(oracle.window({ accounts: [1], from: FROM, to: TO, tz: 'UTC' }).filter((c) => MOVED.includes(c.started)).length, 3,
    'at from, from + 1 ms and to − 1 ms are in; the other three are out');
});

for (const form of forms) {
  t.test(`every slot-served report, bounds as ${form.name}`, async (t) => {
    const filter: Filter = { accounts: [1], from: FROM, to: TO, tz: form.tz };
    const get = async (report: string, extra: Record<string, string> = {}) => {
      const q = new URLSearchParams({ date_from: form.from, date_to: form.to, timezone: form.tz, ...extra });
      const res = await ctx.get(`/api/telesales/reports/${report}?${q}`, 'acct1@test');
      t.equal(res.status, 200, `${report} answers 200`);
      return res.body.data;
    };
    t.same(await get('dashboard'), oracle.dashboard(filter), 'dashboard');
    t.same(await get('agent-performance'), oracle.agentPerformance(filter), 'agent-performance');
    for (const g of ['day', 'week', 'hour'] as const) {
      t.same(await get('time-series', { group_by: g }), oracle.timeSeries(filter, g), `time-series by ${g}`);
    }
    t.same(await get('hour-dow-heatmap'), oracle.heatmap(filter), 'hour-dow-heatmap');
    t.same(await get('disposition-breakdown'), oracle.dispositionBreakdown(filter), 'disposition-breakdown');
    t.same(await get('caller-id-health'), oracle.callerIdHealth(filter, FIXTURE_NOW), 'caller-id-health');
    // The same figures through the calls branch of the roll-up reports (an agent filter).
    const agents = [...new Set(oracle.window(filter).filter((c) => c.agent_id !== null).map((c) => c.agent_id as number))].slice(0, 3);
    const withAgents: Filter = { ...filter, agentIds: agents };
    const agentQuery = { 'agent_ids[]': agents.join(',') };
    t.same(await get('dashboard', agentQuery), oracle.dashboard(withAgents), 'dashboard with agents');
    t.same(await get('caller-id-health', agentQuery), oracle.callerIdHealth(withAgents, FIXTURE_NOW), 'caller-id-health with agents');
  });
}

t.test('a window inside one slot counts only its own calls', async (t) => {
  const from = FROM - 1;
  const to = FROM + 1;
  const filter: Filter = { accounts: [1], from, to, tz: 'UTC' };
  const q = new URLSearchParams({ date_from: new Date(from).toISOString(), date_to: new Date(to).toISOString() });
  const res = await ctx.get(`/api/telesales/reports/dashboard?${q}`, 'acct1@test');
  t.same(res.body.data, oracle.dashboard(filter));
  t.equal(res.body.data.total_dials, 2, 'the calls at from − 1 ms and at from');
});
