import t from 'tap';
import { makeApp } from '../helpers/fixture.ts';
import { Oracle } from '../helpers/oracle.ts';

const ctx = await makeApp('validation', 3000);
t.teardown(ctx.close);
const oracle = new Oracle(ctx.sourceFile);
const dash = (q: string, user = 'acct1@test') => ctx.get(`/api/telesales/reports/dashboard?${q}`, user);

t.test('the 90-day rule on the local calendar', async (t) => {
  t.equal((await dash('date_from=2026-06-01&date_to=2026-08-29')).status, 200, 'exactly 90 days is accepted');
  const refused = await dash('date_from=2026-06-01&date_to=2026-08-30');
  t.equal(refused.status, 422);
  t.same(refused.body, { message: 'The given data was invalid.', errors: { date_to: ['The date_from..date_to range may not exceed 90 days.'] } });
  // Over the March DST change a New York window of 90 local days has 89 days 23 hours of UTC: still accepted, 91 not.
  t.equal((await dash('date_from=2026-02-01&date_to=2026-05-01&timezone=America/New_York')).status, 200);
  t.equal((await dash('date_from=2026-02-01&date_to=2026-05-02&timezone=America/New_York')).status, 422);
  t.equal((await dash('date_from=2026-06-01T00:00:00Z&date_to=2026-08-30T00:00:00Z')).status, 200, '90 days of timestamps');
  t.equal((await dash('date_from=2026-06-01T00:00:00Z&date_to=2026-08-30T00:00:01Z')).status, 422, 'one second more');
});

t.test('every parameter is validated with a message naming the field', async (t) => {
  const cases: [string, string[]][] = [
    ['', ['date_from', 'date_to']],
    ['date_from=2026-13-01&date_to=2026-12-02', ['date_from']],
    ['date_from=yesterday&date_to=2026-12-02', ['date_from']],
    ['date_from=2026-12-05&date_to=2026-12-01', ['date_to']],
    ['date_from=2026-12-01&date_to=2026-12-02&timezone=Mars/Olympus', ['timezone']],
    ['date_from=2026-12-01&date_to=2026-12-02&campaign_id=abc', ['campaign_id']],
    ['date_from=2026-12-01&date_to=2026-12-02&campaign_id=-4', ['campaign_id']],
    ['date_from=2026-12-01&date_to=2026-12-02&team_id=1.5', ['team_id']],
    ['date_from=2026-12-01&date_to=2026-12-02&agent_ids[]=x', ['agent_ids']],
    ['date_from=2026-12-01&date_to=2026-12-02&format=pdf', ['format']],
    ['date_from=2026-12-01&date_to=2026-12-02&colour=red', ['colour']],
    ['date_from=2026-12-01&date_to=2026-12-02&group_by=day', ['group_by']],
    ['date_from=2026-12-01&date_from=2026-12-02&date_to=2026-12-02', ['date_from']],
  ];
  for (const [q, fields] of cases) {
    const res = await dash(q);
    t.equal(res.status, 422, `422 for "${q}"`);
    t.equal(res.body.message, 'The given data was invalid.');
    t.same(Object.keys(res.body.errors).sort(), [...fields].sort(), `fields for "${q}"`);
    for (const f of fields) t.match(res.body.errors[f][0], f, 'the message names the field');
  }
  const ts = await ctx.get('/api/telesales/reports/time-series?date_from=2026-12-01&date_to=2026-12-02&group_by=month', 'acct1@test');
  t.same(ts.body.errors, { group_by: ['The group_by must be one of: day, week, hour.'] });
  const ab = await ctx.get('/api/telesales/reports/abandon-rate?window_minutes=0', 'acct1@test');
  t.same(Object.keys(ab.body.errors).sort(), ['campaign_id', 'window_minutes']);
  const unknown = await ctx.get('/api/telesales/reports/nope?date_from=2026-12-01&date_to=2026-12-02', 'acct1@test');
  t.equal(unknown.status, 404);
  t.match(unknown.body.message, /Valid reports: dashboard/);
});

t.test('id filters outside the scope are 404s that look alike', async (t) => {
  const own = oracle.campaigns.find((c) => c.account_id === 1 && c.deleted_at === null)!;
  const foreign = oracle.campaigns.find((c) => c.account_id === 2)!;
  const deleted = oracle.campaigns.find((c) => c.account_id === 1 && c.deleted_at !== null)!;
  const q = 'date_from=2026-12-01&date_to=2026-12-10';
  t.equal((await dash(`${q}&campaign_id=${own.id}`)).status, 200);
  const a = await dash(`${q}&campaign_id=${foreign.id}`);
  const b = await dash(`${q}&campaign_id=999999`);
  t.equal(a.status, 404);
  t.equal(b.status, 404);
  t.same(Object.keys(a.body), ['message']);
  t.equal((await dash(`${q}&campaign_id=${deleted.id}`)).status, 404, 'a deleted campaign is not a filter');
  const foreignAgent = oracle.agents.find((x) => x.account_id === 2)!;
  t.equal((await dash(`${q}&agent_ids[]=${foreignAgent.id}`)).status, 404);
  const foreignTeam = oracle.agents.find((x) => x.account_id === 2 && x.team_id)!.team_id;
  t.equal((await dash(`${q}&team_id=${foreignTeam}`)).status, 404);
  t.equal((await dash(`${q}&account_id=2`)).status, 404, 'an account user cannot widen its scope');
  t.equal((await dash(`${q}&account_id=2`, 'partner1@test')).status, 404, "another partner's account");
  t.equal((await dash(`${q}&account_id=3`, 'partner1@test')).status, 200, "the partner's own account");
  t.equal((await dash(`${q}&account_id=77`, 'admin@test')).status, 404);
});

t.test("an account user's figures never include another account's rows", async (t) => {
  const q = 'date_from=2026-11-01&date_to=2027-01-10';
  const one = (await dash(q, 'acct1@test')).body.data;
  const two = (await dash(q, 'acct2@test')).body.data;
  const both = (await dash(`${q}`, 'admin@test')).body.data;
  const own1 = oracle.dashboard({ accounts: [1], from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2027-01-11T00:00:00Z'), tz: 'UTC' });
  t.same(one, own1);
  t.not(one.total_dials, two.total_dials);
  t.ok(both.total_dials > one.total_dials + two.total_dials - 1);
  const cids = (await ctx.get(`/api/telesales/reports/caller-id-health?${q}`, 'acct1@test')).body.data.map((r: { cid: string }) => r.cid).sort();
  t.same(cids, oracle.callerIds.filter((c) => c.account_id === 1).map((c) => c.cid).sort());
  const partner = (await ctx.get(`/api/telesales/reports/caller-id-health?${q}`, 'partner2@test')).body.data.length;
  t.equal(partner, oracle.callerIds.filter((c) => [2, 4].includes(c.account_id)).length, 'partner 2 sees accounts 2 and 4 only');
});

t.test('authentication', async (t) => {
  const none = await ctx.app.inject({ url: '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-02' });
  t.equal(none.statusCode, 401);
  const bad = await ctx.app.inject({ url: '/api/telesales/reports/dashboard', headers: { authorization: 'Bearer nonsense' } });
  t.equal(bad.statusCode, 401);
  const wrong = await ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'acct1@test', password: 'wrong-password' } });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().success, false);
  const login = await ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'acct1@test', password: 'password-123' } });
  const body = login.json();
  t.match(body, { status: 200, success: true, message: 'Successfully logged in', errors: [], data: { token: { refresh: String, access: String }, user_data: { email: 'acct1@test' } } });
  const payload = JSON.parse(Buffer.from(body.data.token.access.split('.')[1], 'base64url').toString());
  t.equal(payload.token_type, 'access');
  t.equal(payload.exp - payload.iat, 86400, 'access tokens last one day');
  const refreshed = await ctx.app.inject({ method: 'POST', url: '/api/accounts/token/refresh/', payload: { refresh: body.data.token.refresh } });
  t.equal(refreshed.statusCode, 200);
  const access = refreshed.json().access;
  const ok = await ctx.app.inject({ url: '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-02', headers: { authorization: `Bearer ${access}` } });
  t.equal(ok.statusCode, 200);
  const asAccess = await ctx.app.inject({ method: 'POST', url: '/api/accounts/token/refresh/', payload: { refresh: access } });
  t.equal(asAccess.statusCode, 401, 'an access token is not a refresh token');
  const refreshAsBearer = await ctx.app.inject({ url: '/api/telesales/reports/dashboard', headers: { authorization: `Bearer ${body.data.token.refresh}` } });
  t.equal(refreshAsBearer.statusCode, 401, 'a refresh token is not an access token');
});

t.test('a parameter given twice is one problem, said once, and only that', async (t) => {
  for (const field of ['date_from', 'date_to', 'timezone', 'campaign_id']) {
    const q = new URLSearchParams({ date_from: '2026-12-01', date_to: '2026-12-02' });
    q.append(field, field === 'timezone' ? 'UTC' : field === 'campaign_id' ? '1' : '2026-12-02');
    if (field === 'timezone' || field === 'campaign_id') q.append(field, field === 'timezone' ? 'UTC' : '1');
    const res = await dash(q.toString());
    t.equal(res.status, 422, field);
    t.strictSame(res.body.errors, { [field]: [`The ${field} may be given only once.`] }, field);
  }
});
