import t from 'tap';
import { makeApp, FIXTURE_NOW, sourceRows, type TestApp } from '../helpers/fixture.ts';
import { page, setCookies, signIn, signInForm } from '../helpers/console.ts';
import { setDisabled } from '../../src/auth/users.ts';

const EVIL_CAMPAIGN = '<script>alert(1)</script>';
const EVIL_SOURCE = '=HYPERLINK("http://evil.example","click")';

let ctx: TestApp;
let acct: string;
t.before(async () => {
  ctx = await makeApp('console-pages', 4000, (db) => {
    db.prepare(`UPDATE campaigns SET name = ? WHERE id = (SELECT min(id) FROM campaigns WHERE account_id = 1 AND deleted_at IS NULL)`).run(EVIL_CAMPAIGN);
    db.prepare(`UPDATE leads SET source = ? WHERE source = 'referral'`).run(EVIL_SOURCE);
  });
  acct = await signIn(ctx.app, 'acct1@test');
});
t.teardown(() => ctx.close());

const form = (payload: Record<string, string>) => new URLSearchParams(payload).toString();
const FORM = 'application/x-www-form-urlencoded';

t.test('signing in: CSRF, wrong password, a session cookie, and a local next only', async (t) => {
  const f = await signInForm(ctx.app);
  const noToken = await ctx.app.inject({ method: 'POST', url: '/login', headers: { cookie: f.cookie, 'content-type': FORM }, payload: form({ email: 'acct1@test', password: 'password-123' }) });
  t.equal(noToken.statusCode, 403, 'a form without its CSRF token is refused');
  t.equal(setCookies(noToken).filter((c) => c.startsWith('callboard_session=')).length, 0);

  const wrong = await ctx.app.inject({ method: 'POST', url: '/login', headers: { cookie: f.cookie, 'content-type': FORM }, payload: form({ _csrf: f.csrf, email: 'acct1@test', password: 'nope-nope-nope' }) });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.body, /Invalid email or password/);

  const evilNext = await ctx.app.inject({ method: 'POST', url: '/login', headers: { cookie: f.cookie, 'content-type': FORM }, payload: form({ _csrf: f.csrf, email: 'acct1@test', password: 'password-123', next: '//evil.example/x' }) });
  t.equal(evilNext.statusCode, 303);
  t.equal(evilNext.headers.location, '/console/telesales', 'another site is never where sign-in leads');
  const session = setCookies(evilNext).find((c) => c.startsWith('callboard_session='))!;
  t.match(session, /HttpOnly/);
  t.match(session, /SameSite=Lax/);

  const next = await ctx.app.inject({ method: 'POST', url: '/login', headers: { cookie: f.cookie, 'content-type': FORM }, payload: form({ _csrf: f.csrf, email: 'acct1@test', password: 'password-123', next: '/console/billing?month=2026-12' }) });
  t.equal(next.headers.location, '/console/billing?month=2026-12');

  const anonymous = await ctx.app.inject({ method: 'GET', url: '/console/telesales?range=today' });
  t.equal(anonymous.statusCode, 302);
  t.equal(anonymous.headers.location, `/?${new URLSearchParams({ next: '/console/telesales?range=today' })}`);
});

t.test('the API stays Bearer-only; console downloads need the session', async (t) => {
  const api = await ctx.app.inject({ method: 'GET', url: '/api/telesales/reports/dashboard?date_from=2027-01-01&date_to=2027-01-09', headers: { cookie: acct } });
  t.equal(api.statusCode, 401, 'a session cookie is not an API credential');
  const file = await ctx.app.inject({ method: 'GET', url: '/console/api/telesales/reports/funnel/export?date_from=2027-01-01&date_to=2027-01-09&format=csv' });
  t.equal(file.statusCode, 401);
  t.match(file.json().message, /Sign in/);
});

t.test('pages carry a strict Content Security Policy', async (t) => {
  const p = await page(ctx.app, '/console/telesales', acct);
  t.equal(p.status, 200);
  const csp = String(p.headers['content-security-policy']);
  t.match(csp, /script-src 'self'/);
  t.match(csp, /default-src 'self'/);
  t.notMatch(csp, /unsafe-inline/);
  t.equal(p.headers['x-content-type-options'], 'nosniff');
  const api = await ctx.app.inject({ method: 'GET', url: '/api/telesales/reports/dashboard?date_from=2027-01-01&date_to=2027-01-09', headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` } });
  t.ok(api.headers['x-data-as-of']);
  t.equal(p.headers['x-data-as-of'], api.headers['x-data-as-of'], 'the page is as fresh as the API says');
  t.equal(p.document.querySelector('#freshness time')!.getAttribute('datetime'), api.headers['x-data-as-of']);
  // Every script is a file of this site, or a JSON data block that never runs.
  for (const s of p.document.querySelectorAll('script')) {
    if (s.getAttribute('type') === 'application/json') continue;
    t.match(s.getAttribute('src'), /^\/console\/assets\//);
  }
});

t.test('user text is escaped: a campaign named <script> and a formula lead source', async (t) => {
  const p = await page(ctx.app, '/console/telesales?range=last_90_days', acct);
  t.equal(p.status, 200);
  t.notOk(p.body.includes(EVIL_CAMPAIGN), 'the raw tag never reaches the page');
  const option = [...p.document.querySelectorAll('#campaign_id option')].find((o) => o.textContent === EVIL_CAMPAIGN);
  t.ok(option, 'the campaign is listed under its exact name, as text');
  t.equal([...p.document.querySelectorAll('script')].filter((s) => !s.getAttribute('src') && s.getAttribute('type') !== 'application/json').length, 0, 'no inline script');
  const source = [...p.document.querySelectorAll('#sources tbody th')].map((c) => c.textContent);
  t.ok(source.includes(EVIL_SOURCE), 'the lead source is shown as the text it is');
  // The same view's download neutralises the formula, as the API's export does.
  const href = p.document.querySelector('#src-title')!.parentElement!.querySelector('a[href*="format=csv"]')!.getAttribute('href')!;
  const file = await ctx.app.inject({ method: 'GET', url: href, headers: { cookie: acct } });
  t.equal(file.statusCode, 200);
  t.notMatch(file.body, /^=HYPERLINK/m);
  t.match(file.body, /HYPERLINK/);

  const calls = await page(ctx.app, `/console/calls?range=last_90_days&campaign_id=${option!.getAttribute('value')}`, acct);
  t.equal(calls.status, 200);
  t.ok([...calls.document.querySelectorAll('#calls tbody td')].some((td) => td.textContent === EVIL_CAMPAIGN));
  t.notOk(calls.body.includes(EVIL_CAMPAIGN));
});

t.test('every figure on the overview is the API\'s figure for the same view', async (t) => {
  const view = 'date_from=2026-12-01&date_to=2027-01-09&timezone=America/New_York';
  const p = await page(ctx.app, `/console/telesales?${view}&group_by=week`, acct);
  t.equal(p.status, 200);
  const api = async (name: string, extra = '') => (await ctx.get(`/api/telesales/reports/${name}?${view}${extra}`, 'acct1@test')).body.data;
  const kpis = await api('dashboard');
  t.equal(p.document.querySelector('[data-kpi=total_dials]')!.textContent, kpis.total_dials.toLocaleString('en-US'));
  t.equal(p.document.querySelector('[data-kpi=answer_rate_pct]')!.textContent, `${kpis.answer_rate_pct} %`);
  const heat = await api('hour-dow-heatmap');
  const cells = [...p.document.querySelectorAll('#heatmap td')];
  t.equal(cells.length, 168);
  t.strictSame(cells.map((c) => ({ day_of_week: Number(c.getAttribute('data-dow')), hour: Number(c.getAttribute('data-hour')), dials: Number(c.getAttribute('data-dials')), answered: Number(c.getAttribute('data-answered')), answer_rate_pct: Number(c.getAttribute('data-rate')) })), heat);
  const series = await api('time-series', '&group_by=week');
  t.strictSame(JSON.parse(p.document.getElementById('ts-data')!.textContent!), series, 'the chart draws the API\'s weekly buckets');
  const funnel = await api('funnel');
  t.strictSame([...p.document.querySelectorAll('#funnel tbody tr')].map((r) => [r.querySelector('th')!.textContent, Number(r.querySelector('td')!.textContent!.replace(/,/g, ''))]), funnel.map((s: { stage: string; count: number }) => [s.stage, s.count]));
  const agents = await api('agent-performance');
  t.equal(p.document.querySelectorAll('#agents tbody tr').length, agents.length);
});

t.test('the agent table sorts by its header links, in the URL', async (t) => {
  const p = await page(ctx.app, '/console/telesales?range=last_30_days&sort=name&dir=asc', acct);
  const names = [...p.document.querySelectorAll('#agents tbody th')].map((c) => c.textContent!);
  t.strictSame(names, [...names].sort((a, b) => a.localeCompare(b)));
  const header = p.document.querySelector('#agents th[aria-sort=ascending] a')!;
  t.match(header.getAttribute('href'), /sort=name&dir=desc/);
  t.match(header.getAttribute('href'), /range=last_30_days/);
});

t.test('links and downloads carry the whole view', async (t) => {
  const agents = (await ctx.get('/api/telesales/reports/agent-performance?date_from=2026-12-01&date_to=2027-01-09', 'acct1@test')).body.data;
  const view = `date_from=2026-12-20&date_to=2027-01-05&timezone=Europe/London&agent_ids=${agents[0].agent_id}&agent_ids=${agents[1].agent_id}`;
  const p = await page(ctx.app, `/console/telesales?${view}`, acct);
  t.equal(p.status, 200);
  for (const a of p.document.querySelectorAll('.downloads a')) {
    const q = new URL(a.getAttribute('href')!, 'http://x').searchParams;
    t.equal(q.get('date_from'), '2026-12-20');
    t.equal(q.get('date_to'), '2027-01-05');
    t.equal(q.get('timezone'), 'Europe/London');
    t.strictSame(q.getAll('agent_ids'), [String(agents[0].agent_id), String(agents[1].agent_id)]);
  }
  for (const a of p.document.querySelectorAll('.top nav a, .segmented a')) {
    const q = new URL(a.getAttribute('href')!, 'http://x').searchParams;
    t.equal(q.get('timezone'), 'Europe/London', `${a.textContent} keeps the zone`);
    t.equal(q.get('date_from'), '2026-12-20', `${a.textContent} keeps the dates`);
  }
  // A download from the page is byte for byte the API's export of the same view.
  const href = p.document.querySelector('#agents-title')!.parentElement!.querySelector('a[href*="format=csv"]')!.getAttribute('href')!;
  const fromPage = await ctx.app.inject({ method: 'GET', url: href, headers: { cookie: acct } });
  const fromApi = await ctx.app.inject({ method: 'GET', url: href.replace(/^\/console/, ''), headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` } });
  t.equal(fromPage.statusCode, 200);
  t.equal(fromPage.body, fromApi.body);
  t.equal(fromPage.headers['content-disposition'], fromApi.headers['content-disposition']);
});

t.test('presets are calendar days of the chosen zone', async (t) => {
  // FIXTURE_NOW is 2027-01-10 12:00 UTC: already the 11th at UTC+14, still the 10th in New York.
  const dates = async (q: string) => {
    const p = await page(ctx.app, `/console/telesales?${q}`, acct);
    return [p.document.querySelector('#date_from')!.getAttribute('value'), p.document.querySelector('#date_to')!.getAttribute('value')];
  };
  t.strictSame(await dates('range=today&timezone=Pacific/Kiritimati'), ['2027-01-11', '2027-01-11']);
  t.strictSame(await dates('range=today&timezone=America/New_York'), ['2027-01-10', '2027-01-10']);
  t.strictSame(await dates('range=last_month&timezone=UTC'), ['2026-12-01', '2026-12-31']);
  t.strictSame(await dates('range=last_90_days&timezone=UTC'), ['2026-10-13', '2027-01-10']);
  t.strictSame(await dates('timezone=UTC'), ['2026-12-12', '2027-01-10'], 'no range: the last 30 days');
  const p = await page(ctx.app, '/console/telesales?range=this_month&timezone=UTC', acct);
  t.equal(p.document.querySelector('#range option[selected]')!.getAttribute('value'), 'this_month');
  t.equal(new URL(p.document.querySelector('.top nav a')!.getAttribute('href')!, 'http://x').searchParams.get('range'), 'this_month', 'a preset stays a preset in links');
  t.equal(FIXTURE_NOW.toISOString(), '2027-01-10T12:00:00.000Z');
});

t.test('an account user defaults to the account\'s own zone', async (t) => {
  const p = await page(ctx.app, '/console/telesales', acct);
  const zone = p.document.querySelector('#timezone option[selected]')!;
  t.equal(zone.getAttribute('value'), 'America/New_York');
  t.match(zone.textContent, /UTC−05:00/);
});

t.test('a 422 is shown next to the field it names', async (t) => {
  const p = await page(ctx.app, '/console/telesales?date_from=2026-01-01&date_to=2026-12-31&timezone=UTC', acct);
  t.equal(p.status, 422);
  t.match(p.document.getElementById('date_to-error')!.textContent, /may not exceed 90 days/);
  t.equal(p.document.getElementById('date_to')!.getAttribute('aria-invalid'), 'true');
  const z = await page(ctx.app, '/console/telesales?range=today&timezone=Mars/Olympus', acct);
  t.equal(z.status, 422);
  t.match(z.document.getElementById('timezone-error')!.textContent, /valid IANA timezone/);
  // Filters reach the report as typed: an empty agent in a list is refused, never dropped.
  const agents = await page(ctx.app, '/console/telesales?range=today&timezone=UTC&agent_ids=1,,2', acct);
  t.equal(agents.status, 422);
  t.match(agents.document.getElementById('agent_ids-error')!.textContent, /agent_ids\.1 must be a positive integer/);
  t.equal(new URL(agents.document.querySelector('.top nav a')!.getAttribute('href')!, 'http://x').searchParams.get('agent_ids'), '1,,2', 'links keep it as typed');
  const other = await page(ctx.app, '/console/telesales?range=today&timezone=UTC&campaign_id=999999', acct);
  t.equal(other.status, 404);
  t.match(other.document.querySelector('.alert')!.textContent, /No campaign 999999 in your scope/);
});

t.test('compliance links to exactly the abandoned calls behind the rate', async (t) => {
  const p = await page(ctx.app, '/console/compliance', acct);
  t.equal(p.status, 200);
  const link = p.document.getElementById('abandoned-calls')!.getAttribute('href')!;
  const q = new URL(link, 'http://x').searchParams;
  t.equal(q.get('status'), 'abandoned');
  const rate = (await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${q.get('campaign_id')}`, 'acct1@test')).body.data.current;
  const calls = (await ctx.get(`/api/calls?${new URLSearchParams({ date_from: q.get('date_from')!, date_to: q.get('date_to')!, campaign_id: q.get('campaign_id')!, status: 'abandoned', limit: '10000' })}`, 'acct1@test')).body.data;
  t.ok(rate.attempts_abandoned > 0, 'the fixture has abandoned calls to show');
  t.equal(calls.length, rate.attempts_abandoned, 'the linked view holds as many calls as the rate counts');
  const shown = await page(ctx.app, link, acct);
  t.equal(shown.status, 200);
  t.equal(shown.document.querySelectorAll('#calls tbody tr[data-call]').length, rate.attempts_abandoned);
  // The same calls counted from the source rows: the campaign's abandoned calls started in
  // the 30 days (43,200 minutes) ending at the fixture's now.
  const from = FIXTURE_NOW.getTime() - 43_200 * 60_000;
  const expected = sourceRows(ctx.sourceFile, 'calls')
    .filter((c) => c.campaign_id === Number(q.get('campaign_id')) && c.status === 'abandoned')
    .filter((c) => Date.parse(c.started_at) >= from && Date.parse(c.started_at) < FIXTURE_NOW.getTime())
    .map((c) => Number(c.id)).sort((a, b) => a - b);
  t.strictSame([...shown.document.querySelectorAll('#calls tbody tr[data-call]')].map((r) => Number(r.getAttribute('data-call'))).sort((a, b) => a - b), expected, 'exactly the source\'s abandoned calls of the window');
  t.equal(rate.attempts_abandoned, expected.length);
});

t.test('company, campaigns, billing and calls render the API\'s answers', async (t) => {
  const company = await page(ctx.app, '/console/company?days=30', acct);
  t.equal(company.status, 200);
  const dash = (await ctx.get('/api/v1/dashboard/?days=30', 'acct1@test')).body;
  t.strictSame(JSON.parse(company.document.getElementById('credit-data')!.textContent!), dash.credit_usage_overtime);
  const campaigns = await page(ctx.app, '/console/campaigns?page_size=3', acct);
  const summary = (await ctx.get('/api/system/campaigns/report/summary/?page=1&page_size=3', 'acct1@test')).body;
  t.equal(campaigns.document.querySelectorAll('#campaigns tbody tr').length, summary.data.length);
  t.match(campaigns.document.querySelector('a[rel=next]')!.getAttribute('href'), /page=2/);
  const billing = await page(ctx.app, '/console/billing?month=2026-12', acct);
  const rec = (await ctx.get('/api/billing/reconciliation?month=2026-12', 'acct1@test')).body;
  t.equal(billing.document.querySelectorAll('#reconciliation tbody tr').length, rec.data.length);
  t.match(billing.document.getElementById('month-complete')!.textContent, rec.complete ? /is complete/ : /not complete/);
  const calls = await page(ctx.app, '/console/calls?date_from=2027-01-01&date_to=2027-01-09&timezone=UTC', acct);
  const api = (await ctx.get('/api/calls?date_from=2027-01-01&date_to=2027-01-09&timezone=UTC&limit=100', 'acct1@test')).body;
  t.strictSame([...calls.document.querySelectorAll('#calls tbody tr[data-call]')].map((r) => Number(r.getAttribute('data-call'))), api.data.map((c: { id: number }) => c.id));
  if (api.next_cursor) t.match(calls.document.querySelector('.pager a[rel=next]')!.getAttribute('href'), new RegExp(`cursor=${encodeURIComponent(api.next_cursor)}`));
});

t.test('admins and partners switch accounts; partners see theirs', async (t) => {
  const admin = await signIn(ctx.app, 'admin@test');
  const all = await page(ctx.app, '/console/telesales?range=today', admin);
  const options = [...all.document.querySelectorAll('#account-switch option')].map((o) => o.getAttribute('value'));
  t.ok(options.length > 2, 'every account is offered to an admin');
  const one = await page(ctx.app, '/console/telesales?range=today&account_id=2', admin);
  t.equal(one.document.querySelector('#account-switch option[selected]')!.getAttribute('value'), '2');
  const partner = await signIn(ctx.app, 'partner1@test');
  const acc = await page(ctx.app, '/console/accounts', partner);
  t.equal(acc.status, 200);
  t.ok(acc.document.querySelectorAll('#accounts tbody tr').length >= 1);
  const outside = await page(ctx.app, '/console/telesales?range=today&account_id=999', partner);
  t.equal(outside.status, 404, 'an account outside the partner\'s scope is not shown');
  const notPartner = await page(ctx.app, '/console/accounts', acct);
  t.equal(notPartner.status, 404);
});

t.test('signing out needs the form token; a disabled user is signed out at once', async (t) => {
  const cookie = await signIn(ctx.app, 'acct2@test');
  t.equal((await page(ctx.app, '/console/telesales?range=today', cookie)).status, 200);
  const forged = await ctx.app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'content-type': FORM }, payload: '' });
  t.equal(forged.statusCode, 403, 'a cross-site form cannot sign a user out');
  const p = await page(ctx.app, '/console/telesales?range=today', cookie);
  const token = p.document.querySelector('.signout input[name=_csrf]')!.getAttribute('value')!;
  const out = await ctx.app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'content-type': FORM }, payload: form({ _csrf: token }) });
  t.equal(out.statusCode, 303);
  t.match(setCookies(out).find((c) => c.startsWith('callboard_session='))!, /Expires=Thu, 01 Jan 1970/);

  const again = await signIn(ctx.app, 'acct2@test');
  await setDisabled(ctx.meta, 'acct2@test', true);
  const after = await ctx.app.inject({ method: 'GET', url: '/console/telesales', headers: { cookie: again } });
  t.equal(after.statusCode, 302, 'the disabled user\'s session no longer opens pages');
});
