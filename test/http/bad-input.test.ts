import t from 'tap';
import { makeApp } from '../helpers/fixture.ts';
import { encodeCursor } from '../../src/reports/cursor.ts';

// Odd and empty parameters on every report endpoint: a 422 naming each bad field, never
// a 500 and never a silently ignored filter.
const ctx = await makeApp('bad-input', 2000);
t.teardown(ctx.close);

const W = { date_from: '2026-12-01', date_to: '2026-12-07' };
/** Every report endpoint, a query it answers 200 to, and the parameters it takes. */
const endpoints: { url: string; base: Record<string, string>; params: string[]; user?: string }[] = [
  ...['dashboard', 'disposition-breakdown', 'agent-performance', 'funnel', 'caller-id-health', 'hour-dow-heatmap', 'lead-source-attribution']
    .map((r) => ({ url: `/api/telesales/reports/${r}`, base: W, params: ['date_from', 'date_to', 'timezone', 'campaign_id', 'agent_ids[]', 'team_id', 'format'] })),
  { url: '/api/telesales/reports/time-series', base: W, params: ['date_from', 'date_to', 'timezone', 'group_by', 'agent_ids[]', 'format'] },
  { url: '/api/telesales/reports/dashboard/export', base: { ...W, format: 'csv' }, params: ['date_from', 'timezone', 'agent_ids[]', 'bom', 'template'] },
  { url: '/api/telesales/reports/abandon-rate', base: { campaign_id: '1' }, params: ['campaign_id', 'window_minutes'] },
  { url: '/api/calls', base: W, params: ['date_from', 'date_to', 'timezone', 'direction', 'status', 'limit', 'cursor', 'agent_ids[]', 'format'] },
  { url: '/api/v1/dashboard/', base: {}, params: ['days', 'account_id'], user: 'admin@test' },
  { url: '/api/widgets/data', base: { type: 'call_totals' }, params: ['from_date', 'to_date', 'timezone', 'customer_id'] },
  { url: '/api/system/campaigns/report/summary/', base: {}, params: ['page', 'page_size'] },
  { url: '/api/system/campaigns/report/download/', base: { campaign_id: '1' }, params: ['format', 'timezone'] },
  { url: '/api/billing/reconciliation', base: { month: '2026-11' }, params: ['month', 'format', 'account_id'], user: 'admin@test' },
];

async function get(url: string, query: string, user = 'acct1@test'): Promise<{ status: number; body: any }> {
  const res = await ctx.app.inject({ method: 'GET', url: `${url}?${query}`, headers: { authorization: `Bearer ${await ctx.token(user)}` } });
  return { status: res.statusCode, body: /json/.test(String(res.headers['content-type'])) ? res.json() : res.rawPayload };
}
const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
const field = (p: string) => p.replace('[]', '');

t.test('every endpoint answers its base query', async (t) => {
  for (const e of endpoints) t.equal((await get(e.url, qs(e.base), e.user)).status, 200, e.url);
});

t.test('an empty value of any parameter is a 422 naming it', async (t) => {
  for (const e of endpoints) {
    for (const p of e.params) {
      const res = await get(e.url, qs({ ...e.base, [p]: '' }), e.user);
      t.equal(res.status, 422, `${e.url} ${p}=`);
      t.ok(res.body.errors?.[field(p)], `${e.url} ${p}= names ${field(p)}`);
    }
  }
  const agents = await get('/api/telesales/reports/dashboard', `${qs(W)}&agent_ids[]=`);
  t.same(agents.body.errors, { agent_ids: ['The agent_ids field must not be empty.'] }, 'agent_ids[]= is an error, not all zeros');
  const gap = await get('/api/telesales/reports/dashboard', `${qs(W)}&agent_ids=1,,2`);
  t.equal(gap.status, 422, 'an empty item of a list');
});

t.test('every bad field is reported at once', async (t) => {
  const res = await get('/api/telesales/reports/dashboard', 'date_from=yesterday&date_to=2026-13-01&timezone=Mars/Olympus&campaign_id=x');
  t.equal(res.status, 422);
  t.same(Object.keys(res.body.errors).sort(), ['campaign_id', 'date_from', 'date_to', 'timezone']);
  const w = await get('/api/widgets/data', 'type=call_totals&from_date=2026-02-30&timezone=Nowhere/Town');
  t.same(Object.keys(w.body.errors).sort(), ['from_date', 'timezone']);
});

t.test('query keys named like Object.prototype members are unknown parameters', async (t) => {
  for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__']) {
    for (const e of endpoints) {
      const res = await get(e.url, `${qs(e.base)}&${key}=1`, e.user);
      t.equal(res.status, 422, `${e.url} ${key}`);
      t.ok(res.body.errors && Object.hasOwn(res.body.errors, key), `${e.url} names ${key}`);
    }
    const jobs = await get('/api/admin/jobs', `${key}=1`, 'admin@test');
    t.equal(jobs.status, 422, `/api/admin/jobs ${key}`);
  }
});

t.test('a cursor is accepted only in the form the server writes', async (t) => {
  const first = await get('/api/calls', `${qs(W)}&limit=5`);
  t.equal(first.status, 200);
  const next = first.body.next_cursor as string;
  t.equal((await get('/api/calls', `${qs(W)}&limit=5&cursor=${next}`)).status, 200, "the server's own cursor");
  const [time, id] = JSON.parse(Buffer.from(next, 'base64url').toString());
  const bad = [
    encodeCursor(['2026', 1]), encodeCursor(['2026-12-01', 1]), encodeCursor(['9999-12-31T00:00:00.000000Z', 1]),
    encodeCursor([time.slice(0, -1), id]), encodeCursor([time, -1]), encodeCursor([time, 0]),
    Buffer.from(JSON.stringify([time, id, 3])).toString('base64url'), Buffer.from(` ${JSON.stringify([time, id])}`).toString('base64url'),
    Buffer.from(JSON.stringify([time, String(id)])).toString('base64url'), 'not-base64!', '%00',
    encodeCursor(['2026-02-30T00:00:00.000000Z', 1]),
  ];
  for (const cursor of bad) {
    const res = await get('/api/calls', `${qs(W)}&cursor=${encodeURIComponent(cursor)}`);
    t.equal(res.status, 422, `cursor ${cursor}`);
    t.ok(res.body.errors?.cursor, 'names cursor');
  }
});

t.test('dates outside 1970–2100 are a 422 in JSON, CSV and XLSX alike', async (t) => {
  const far = [
    ['date_from=9999-01-01&date_to=9999-01-02', 'date_from'], ['date_from=1969-12-31&date_to=1970-01-01', 'date_from'],
    ['date_from=2101-01-01T00:00:00Z&date_to=2101-01-02T00:00:00Z', 'date_from'], ['date_from=0001-01-01&date_to=0001-01-02', 'date_from'],
  ];
  for (const [q, f] of far) {
    for (const format of ['json', 'csv', 'xlsx']) {
      for (const url of ['/api/telesales/reports/dashboard', '/api/calls', '/api/telesales/reports/agent-performance']) {
        const res = await get(url, `${q}&format=${format}`);
        t.equal(res.status, 422, `${url} ${q} ${format}`);
        t.ok(res.body.errors?.[f], `names ${f}`);
      }
    }
  }
  t.equal((await get('/api/telesales/reports/dashboard', 'date_from=2100-12-01&date_to=2100-12-31')).status, 200, '2100 is still in');
  t.equal((await get('/api/telesales/reports/dashboard', 'date_from=1970-01-01&date_to=1970-01-02')).status, 200, '1970 is in');
  const w = await get('/api/widgets/data', 'type=call_totals&from_date=9999-01-01&to_date=9999-01-02');
  t.ok(w.body.errors?.from_date, 'widgets');
  const b = await get('/api/billing/reconciliation', 'month=9999-01', 'admin@test');
  t.equal(b.status, 422);
  t.ok(b.body.errors?.month, 'billing month');
});

t.test('/api/admin/jobs validates job and limit', async (t) => {
  t.equal((await get('/api/admin/jobs', 'job=sync&limit=5', 'admin@test')).status, 200);
  const unknown = await get('/api/admin/jobs', 'job=nope', 'admin@test');
  t.equal(unknown.status, 422);
  t.same(unknown.body.errors, { job: ['The job must be one of: sync, monitor, billing, cdr, retention.'] });
  for (const limit of ['1.5', '1e2', '0', '-1', '1001', 'x', '', ' 5', '0x10']) {
    const res = await get('/api/admin/jobs', `limit=${encodeURIComponent(limit)}`, 'admin@test');
    t.equal(res.status, 422, `limit=${limit}`);
    t.ok(res.body.errors?.limit);
  }
  t.equal((await get('/api/admin/jobs', 'limit=1&limit=2', 'admin@test')).status, 422, 'limit twice');
});
