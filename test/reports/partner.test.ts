import t from 'tap';
import { addKey, revokeKey } from '../../src/auth/api-keys.ts';
import { FIXTURE_NOW, makeApp, sourceRows } from '../helpers/fixture.ts';
import { pct } from '../helpers/oracle.ts';
import { fixed, units } from '../helpers/decimal.ts';

const ctx = await makeApp('partner', 6000);
t.teardown(ctx.close);
const key1 = await addKey(ctx.meta, 1);
const key2 = await addKey(ctx.meta, 2);

const DAY = 86_400_000;
const partners = sourceRows(ctx.sourceFile, 'partners');
const accounts = sourceRows(ctx.sourceFile, 'accounts');
const calls = sourceRows(ctx.sourceFile, 'calls');
const ledger = sourceRows(ctx.sourceFile, 'credit_transactions');

const money = (u: bigint) => fixed(u, 2);

function rollup(cs: Record<string, any>[]) {
  const answered = cs.filter((c) => c.answered_at !== null);
  return {
    total_calls: cs.length,
    answered_calls: answered.length,
    total_minutes: pct(answered.reduce((s, c) => s + c.talk_sec, 0), 60, 2, 1),
    total_cost: money(cs.reduce((s, c) => s + units(String(c.cost)), 0n)),
  };
}

function activity(ids: number[], from: number, to: number) {
  const cs = calls.filter((c) => ids.includes(c.account_id) && c.status !== 'blocked' && Date.parse(c.started_at) >= from && Date.parse(c.started_at) < to);
  const series = [];
  for (let d = from; d < to; d += DAY) {
    const day = cs.filter((c) => Date.parse(c.started_at) >= d && Date.parse(c.started_at) < d + DAY);
    const counts = (dir: string) => {
      const r = rollup(day.filter((c) => c.direction === dir));
      return { total_calls: r.total_calls, answered_calls: r.answered_calls };
    };
    series.push({ date: new Date(d).toISOString().slice(0, 10), ...rollup(day), inbound: counts('inbound'), outbound: counts('outbound') });
  }
  return {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    calls: rollup(cs),
    traffic: { inbound: rollup(cs.filter((c) => c.direction === 'inbound')), outbound: rollup(cs.filter((c) => c.direction === 'outbound')) },
    by_product: { sip_trunking: rollup(cs.filter((c) => c.product === 'sip_trunking')), voice_api: rollup(cs.filter((c) => c.product === 'voice_api')) },
    time_series: series,
    cs,
  };
}

function expectedDashboard(partnerId: number) {
  const now = FIXTURE_NOW.getTime();
  const mine = accounts.filter((a) => a.partner_id === partnerId).sort((a, b) => a.id - b.id);
  const ids = mine.map((a) => a.id);
  const p = partners.find((x) => x.id === partnerId)!;
  const { cs: _cs, ...rest } = activity(ids, Math.floor(now / DAY) * DAY, now);
  return {
    partner: { id: p.id, name: p.name, email: p.email, balance: null },
    period: rest.period,
    accounts: {
      total: mine.length,
      active: mine.filter((a) => a.is_active === 1).length,
      customers: mine.map((a) => ({ auth_id: a.auth_id, name: a.name, email: a.email, phone: a.phone, is_active: a.is_active === 1, created_at: new Date(Date.parse(a.created_at)).toISOString() })),
    },
    total_balance: money(ledger.filter((l) => ids.includes(l.account_id) && Date.parse(l.created_at) < now).reduce((s, l) => s + units(String(l.credits)), 0n)),
    calls: rest.calls, traffic: rest.traffic, by_product: rest.by_product, time_series: rest.time_series,
  };
}

function expectedAnalytics(partnerId: number, fromDay: string, toDay: string) {
  const ids = accounts.filter((a) => a.partner_id === partnerId).map((a) => a.id);
  const { cs, ...rest } = activity(ids, Date.parse(`${fromDay}T00:00:00Z`), Date.parse(`${toDay}T00:00:00Z`) + DAY);
  const spend = ids.map((id) => {
    const own = cs.filter((c) => c.account_id === id);
    const a = accounts.find((x) => x.id === id)!;
    return { auth_id: a.auth_id as string, name: a.name, total_calls: own.length, cost: own.reduce((s, c) => s + units(String(c.cost)), 0n) };
  }).filter((s) => s.total_calls > 0);
  spend.sort((a, b) => (a.cost === b.cost ? (a.auth_id < b.auth_id ? -1 : 1) : a.cost > b.cost ? -1 : 1));
  return { ...rest, top_spenders: spend.slice(0, 10).map((s) => ({ auth_id: s.auth_id, name: s.name, total_calls: s.total_calls, total_cost: money(s.cost) })) };
}

const call = (url: string, id?: string, token?: string) => ctx.app.inject({
  method: 'GET', url, headers: { ...(id !== undefined ? { 'x-auth-id': id } : {}), ...(token !== undefined ? { 'x-auth-token': token } : {}) },
});

t.test('the partner dashboard: today so far, the partner\'s accounts only', async (t) => {
  for (const [partnerId, key] of [[1, key1], [2, key2]] as const) {
    const res = await call('/api/partner/v1/dashboard', key.authId, key.token);
    t.equal(res.statusCode, 200);
    const want = expectedDashboard(partnerId);
    t.strictSame(res.json(), want, `partner ${partnerId}`);
    t.ok(want.calls.total_calls > 0, 'calls today');
  }
  const customers = (await call('/api/partner/v1/dashboard', key1.authId, key1.token)).json().accounts.customers.map((c: { auth_id: string }) => c.auth_id);
  const others = accounts.filter((a) => a.partner_id !== 1).map((a) => a.auth_id);
  t.notOk(customers.some((c: string) => others.includes(c)), "no other partner's customer");
});

t.test('partner analytics: the default 30 days and a chosen window', async (t) => {
  const def = await call('/api/partner/v1/analytics', key1.authId, key1.token);
  t.equal(def.statusCode, 200);
  t.strictSame(def.json(), expectedAnalytics(1, '2026-12-12', '2027-01-10'));
  const custom = await call('/api/partner/v1/analytics?from_date=2026-10-01&to_date=2026-11-15', key2.authId, key2.token);
  const want = expectedAnalytics(2, '2026-10-01', '2026-11-15');
  t.strictSame(custom.json(), want);
  t.equal(want.time_series.length, 46);
  t.ok(want.top_spenders.length >= 2, 'several spenders ranked');
  for (const [q, field] of [['from_date=2026-11-31', 'from_date'], ['from_date=2026-12-02&to_date=2026-12-01', 'to_date'], ['timezone=UTC', 'timezone']]) {
    const res = await call(`/api/partner/v1/analytics?${q}`, key1.authId, key1.token);
    t.equal(res.statusCode, 422, q);
    t.ok(res.json().errors[field], `${q} names ${field}`);
  }
});

t.test('a missing or wrong X-Auth pair is one and the same 401', async (t) => {
  const wrong = [
    await call('/api/partner/v1/dashboard'),
    await call('/api/partner/v1/dashboard', key1.authId),
    await call('/api/partner/v1/dashboard', key1.authId, key2.token),
    await call('/api/partner/v1/dashboard', 'PA000000000000000000', key1.token),
    await call('/api/partner/v1/analytics', key1.authId, `${key1.token}x`),
  ];
  for (const res of wrong) {
    t.equal(res.statusCode, 401);
    t.strictSame(res.json(), wrong[0].json(), 'the same answer whatever was wrong');
  }
  const bearer = await ctx.app.inject({ method: 'GET', url: '/api/partner/v1/dashboard', headers: { authorization: `Bearer ${await ctx.token('partner1@test')}` } });
  t.equal(bearer.statusCode, 401, 'a user token is not a partner key');
  const stored = await ctx.meta.selectFrom('api_keys').selectAll().execute();
  t.notOk(stored.some((k) => JSON.stringify(k).includes(key1.token)), 'the token is not stored');
  t.ok(await revokeKey(ctx.meta, key2.authId));
  t.equal((await call('/api/partner/v1/dashboard', key2.authId, key2.token)).statusCode, 401, 'a revoked key');
});
