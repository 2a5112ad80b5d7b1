import { DateTime } from 'luxon';
import t from 'tap';
import { FIXTURE_NOW, makeApp, sourceRows } from '../helpers/fixture.ts';
import { pct } from '../helpers/oracle.ts';

const ctx = await makeApp('widgets', 6000);
t.teardown(ctx.close);

const TYPES = [
  'missed_calls', 'call_durations', 'average_calls_per_user', 'call_totals', 'calls_top_attributions', 'unique_callers',
  'call_length_distribution', 'geographic_origin', 'daily_call_distribution', 'top_customers_by_calls', 'calls_per_day',
];
const accountsRows = sourceRows(ctx.sourceFile, 'accounts');
const allCalls = sourceRows(ctx.sourceFile, 'calls');

interface Window { accounts: number[]; fromDay: string; toDay: string; zone: string; customer: boolean }

/** Counts ranked by count, then name, as METRICS.md orders every top-N list. */
function ranked(counts: Map<string, number>, n: number) {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

/** The `data` of every widget type, from the source rows (METRICS.md "Widgets"). */
function expected(type: string, w: Window): unknown {
  const from = DateTime.fromISO(w.fromDay, { zone: w.zone });
  const to = DateTime.fromISO(w.toDay, { zone: w.zone }).plus({ days: 1 });
  const calls = allCalls.filter((c) => c.direction === 'inbound' && w.accounts.includes(c.account_id) &&
    Date.parse(c.started_at) >= from.toMillis() && Date.parse(c.started_at) < to.toMillis());
  const answered = calls.filter((c) => c.answered_at !== null);
  const missed = calls.filter((c) => c.answered_at === null);
  const callers = new Set(calls.map((c) => c.from_number).filter((v) => v !== null)).size;
  const count = (key: (c: Record<string, any>) => string) => {
    const m = new Map<string, number>();
    for (const c of calls) m.set(key(c), (m.get(key(c)) ?? 0) + 1);
    return m;
  };
  const local = (c: Record<string, any>) => DateTime.fromMillis(Date.parse(c.started_at), { zone: w.zone });
  switch (type) {
    case 'missed_calls': return String(missed.length);
    case 'call_durations': return pct(answered.reduce((s, c) => s + c.talk_sec, 0), answered.length, 0, 1);
    case 'average_calls_per_user': return pct(calls.length, callers, 1, 1).toFixed(1);
    case 'call_totals': return String(calls.length);
    case 'calls_top_attributions': return ranked(count((c) => c.attribution ?? 'Direct'), 5).map(([name, v]) => ({ name, val: String(v) }));
    case 'unique_callers': return callers;
    case 'call_length_distribution': {
      const band = (lo: number, hi: number) => String(answered.filter((c) => c.talk_sec >= lo && c.talk_sec < hi).length);
      return [
        { name: 'missed', val: String(missed.length), isWarningValue: true },
        { name: '< 30 s', val: band(0, 30) }, { name: '30 - 60 s', val: band(30, 60) }, { name: '1 - 2 min', val: band(60, 120) },
        { name: '2 - 5 min', val: band(120, 300) }, { name: '> 5 min', val: band(300, Infinity) },
      ];
    }
    case 'geographic_origin': return ranked(count((c) => c.origin ?? 'Unknown'), 10).map(([name, v]) => ({ name, val: v }));
    case 'daily_call_distribution':
      return Array.from({ length: 24 }, (_, h) => ({
        name: `${String(h).padStart(2, '0')}:00`,
        Answered: answered.filter((c) => local(c).hour === h).length,
        Missed: missed.filter((c) => local(c).hour === h).length,
      }));
    case 'top_customers_by_calls': {
      if (w.customer) return String(calls.length);
      const per = [...count((c) => String(c.account_id))].map(([id, v]) => ({ id: Number(id), v }));
      per.sort((a, b) => b.v - a.v || a.id - b.id);
      return per.slice(0, 10).map(({ id, v }) => ({
        scId: String(id), name: accountsRows.find((a) => a.id === id)!.name, val: String(v), url: `/mypages/dashboard/scid:${id}`,
      }));
    }
    case 'calls_per_day': {
      const out = [];
      for (let d = from; d < to; d = d.plus({ days: 1 })) {
        const day = d.toISODate();
        out.push({
          name: day,
          Answered: answered.filter((c) => local(c).toISODate() === day).length,
          Missed: missed.filter((c) => local(c).toISODate() === day).length,
        });
      }
      return out;
    }
  }
  throw new Error(type);
}

t.test('every widget type, default window (the 30 days ending today), an account user', async (t) => {
  const today = DateTime.fromJSDate(FIXTURE_NOW, { zone: 'UTC' });
  const w: Window = { accounts: [1], fromDay: today.minus({ days: 29 }).toISODate()!, toDay: today.toISODate()!, zone: 'UTC', customer: false };
  for (const type of TYPES) {
    const res = await ctx.get(`/api/widgets/data?type=${type}`, 'acct1@test');
    t.equal(res.status, 200, type);
    t.strictSame(res.body, { dataset: type, datasources: [{ datasource: 0, data: expected(type, w) }] }, type);
  }
  const totals = (await ctx.get('/api/widgets/data?type=call_totals', 'acct1@test')).body.datasources[0].data;
  t.ok(Number(totals) > 50, 'the window holds inbound calls');
});

t.test('a window across the New York DST change, by customer, for an admin and a partner', async (t) => {
  const w: Window = { accounts: [1], fromDay: '2026-10-25', toDay: '2026-11-08', zone: 'America/New_York', customer: true };
  for (const who of ['admin@test', 'partner1@test']) {
    for (const type of TYPES) {
      const res = await ctx.get(`/api/widgets/data?type=${type}&customer_id=1&from_date=2026-10-25&to_date=2026-11-08&timezone=America/New_York`, who);
      t.equal(res.status, 200, `${who} ${type}`);
      t.strictSame(res.body.datasources[0].data, expected(type, w), `${who} ${type}`);
    }
  }
  const hours = (await ctx.get('/api/widgets/data?type=daily_call_distribution&customer_id=1&from_date=2026-10-25&to_date=2026-11-08&timezone=Asia/Kathmandu', 'admin@test')).body;
  t.strictSame(hours.datasources[0].data, expected('daily_call_distribution', { ...w, zone: 'Asia/Kathmandu' }), 'local hours of a +05:45 zone');
});

t.test('top customers: the scope decides which accounts compete', async (t) => {
  const w: Window = { accounts: [1, 3], fromDay: '2026-12-01', toDay: '2027-01-10', zone: 'UTC', customer: false };
  const partner = await ctx.get('/api/widgets/data?type=top_customers_by_calls&from_date=2026-12-01&to_date=2027-01-10', 'partner1@test');
  t.strictSame(partner.body.datasources[0].data, expected('top_customers_by_calls', w), 'partner 1 sees accounts 1 and 3 only');
  const admin = await ctx.get('/api/widgets/data?type=top_customers_by_calls&from_date=2026-12-01&to_date=2027-01-10', 'admin@test');
  t.strictSame(admin.body.datasources[0].data, expected('top_customers_by_calls', { ...w, accounts: [1, 2, 3, 4, 5, 6] }), 'an admin sees every account');
  t.ok(admin.body.datasources[0].data.length >= 4);
});

t.test('widget validation and scope', async (t) => {
  const unknown = await ctx.get('/api/widgets/data?type=pie', 'acct1@test');
  t.equal(unknown.status, 400);
  for (const type of TYPES) t.match(unknown.body.message, type, `the 400 lists ${type}`);
  t.equal((await ctx.get('/api/widgets/data', 'acct1@test')).status, 400, 'type is required');
  t.equal((await ctx.get('/api/widgets/data?type=call_totals&customer_id=2', 'partner1@test')).status, 404, "another partner's customer");
  t.equal((await ctx.get('/api/widgets/data?type=call_totals&customer_id=2', 'acct1@test')).status, 404, 'another account');
  t.equal((await ctx.get('/api/widgets/data?type=call_totals&customer_id=99', 'admin@test')).status, 404, 'no such customer');
  for (const [q, field] of [
    ['from_date=2026-13-01', 'from_date'], ['to_date=2026/12/01', 'to_date'], ['from_date=2026-12-10&to_date=2026-12-01', 'to_date'],
    ['from_date=2025-01-01&to_date=2026-01-02', 'to_date'], ['timezone=Mars/Olympus', 'timezone'], ['customer_id=x', 'customer_id'],
    ['date_from=2026-12-01', 'date_from'],
  ]) {
    const res = await ctx.get(`/api/widgets/data?type=call_totals&${q}`, 'admin@test');
    t.equal(res.status, 422, q);
    t.ok(res.body.errors?.[field], `${q} names ${field}`);
  }
  t.equal((await ctx.get('/api/widgets/data?type=call_totals&from_date=2025-01-01&to_date=2026-01-01', 'admin@test')).status, 200, '366 days is allowed');
});
