import { parseHTML } from 'linkedom';
import t from 'tap';
import { apiTokenUser } from '../../src/auth/api-tokens.ts';
import { makeApp } from '../helpers/fixture.ts';
import { withDelivery } from '../helpers/delivery.ts';
import { page, signIn } from '../helpers/console.ts';

// The console's Delivery page: API tokens made and revoked by their user, and scheduled
// reports made through a form checked by the API's own rules, each POST with its CSRF token.
const ctx = await makeApp('console-delivery', 1500, undefined, withDelivery());
t.teardown(ctx.close);
const cookie = await signIn(ctx.app, 'acct1@test');
const csrfOf = (doc: Document, form: string) => doc.querySelector(`${form} input[name=_csrf]`)!.getAttribute('value')!;
const post = (url: string, fields: Record<string, string>) => ctx.app.inject({
  method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString(),
});

t.test('a token is made from the page, shown once, works as Bearer, and is revoked from the page', async (t) => {
  const p = await page(ctx.app, '/console/delivery', cookie);
  t.equal(p.status, 200);
  t.ok(p.document.querySelector('nav a[href^="/console/delivery"][aria-current=page]'), 'in the navigation');
  const made = await post('/console/delivery/tokens', { _csrf: csrfOf(p.document, '#new-token-form'), name: '<b>Grafana</b>', expires_in: '30d' });
  t.equal(made.statusCode, 200);
  const doc = parseHTML(made.body).document;
  const token = doc.querySelector('#new-token code.token')?.textContent ?? '';
  t.match(token, /^cbt_/);
  t.match(made.body, /&lt;b&gt;Grafana&lt;\/b&gt;/, 'the name is escaped');
  t.equal(made.headers['cache-control'], 'no-store');
  t.ok(await apiTokenUser(ctx.meta, token), 'a live token');
  const api = await ctx.app.inject({ url: '/api/v1/dashboard/', headers: { authorization: `Bearer ${token}` } });
  t.equal(api.statusCode, 200);
  const again = await page(ctx.app, '/console/delivery', cookie);
  t.notOk(again.body.includes(token), 'not shown again');
  const revokeForm = again.document.querySelector('#tokens form[action$="/revoke"]')!;
  const res = await post(revokeForm.getAttribute('action')!, { _csrf: csrfOf(again.document, '#tokens') });
  t.equal(res.statusCode, 303);
  t.equal((await ctx.app.inject({ url: '/api/v1/dashboard/', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'revoked at once');
  t.equal((await post('/console/delivery/tokens', { name: 'no csrf' })).statusCode, 403, 'no CSRF token, no token');
});

t.test('a scheduled report from the form: the API\'s checks next to their fields, then listed, paused, deleted', async (t) => {
  const p = await page(ctx.app, '/console/delivery?account_id=1', cookie);
  const csrf = csrfOf(p.document, '#new-subscription');
  const bad = await post('/console/delivery/subscriptions', { _csrf: csrf, account_id: '1', name: '', report: 'telesales/dashboard', window: 'yesterday', cron: '0 25 * * *', zone: 'America/New_York', format: 'xlsx', webhook: 'ftp://x' });
  t.equal(bad.statusCode, 422);
  const doc = parseHTML(bad.body).document;
  for (const f of ['name', 'cron', 'webhook']) t.ok(doc.querySelector(`#${f}-error`), `${f}: its message next to it`);
  t.equal(doc.querySelector('#sub-cron')?.getAttribute('value'), '0 25 * * *', 'what was typed stays');
  const emailOff = await post('/console/delivery/subscriptions', { _csrf: csrf, account_id: '1', name: 'x', report: 'telesales/dashboard', window: 'yesterday', cron: '0 7 * * *', zone: 'UTC', format: 'xlsx', emails: 'a@b.test' });
  t.equal(emailOff.statusCode, 422);
  t.ok(parseHTML(emailOff.body).document.querySelector('#emails-error'), 'e-mail is not configured here');
  const ok = await post('/console/delivery/subscriptions', { _csrf: csrf, account_id: '1', name: '<script>alert(1)</script>', report: 'telesales/agent-performance', window: 'last_7_days', cron: '0 7 * * 1', zone: 'America/New_York', format: 'csv', webhook: 'https://hooks.example.com/x' });
  t.equal(ok.statusCode, 303, ok.body.slice(0, 500));
  const subs = await ctx.meta.selectFrom('subscriptions').selectAll().execute();
  t.equal(subs.length, 1);
  t.match(subs[0], { report: 'telesales/agent-performance', window: 'last_7_days', cron: '0 7 * * 1', zone: 'America/New_York', format: 'csv', params: JSON.stringify({ account_id: '1' }) });
  const listed = await page(ctx.app, '/console/delivery', cookie);
  t.notOk(listed.body.includes('<script>alert(1)</script>'), 'escaped');
  t.equal(listed.document.querySelector('#subscriptions tbody th')?.textContent, '<script>alert(1)</script>');
  const pause = listed.document.querySelector('#subscriptions form[action$="/pause"]')!;
  t.equal((await post(pause.getAttribute('action')!, { _csrf: csrfOf(listed.document, '#subscriptions') })).statusCode, 303);
  t.not((await ctx.meta.selectFrom('subscriptions').select('paused_at').executeTakeFirstOrThrow()).paused_at, null);
  // Another user's subscription is not one's own to delete.
  const other = await signIn(ctx.app, 'acct2@test');
  const theirs = await page(ctx.app, '/console/delivery', other);
  const del = await ctx.app.inject({ method: 'POST', url: `/console/delivery/subscriptions/${subs[0].id}/delete`, headers: { cookie: other, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrfOf(theirs.document, '#new-token-form') }).toString() });
  t.equal(del.statusCode, 404);
  const mine = await page(ctx.app, '/console/delivery', cookie);
  const remove = mine.document.querySelector('#subscriptions form[action$="/delete"]')!;
  t.equal((await post(remove.getAttribute('action')!, { _csrf: csrfOf(mine.document, '#subscriptions') })).statusCode, 303);
  t.equal((await ctx.meta.selectFrom('subscriptions').selectAll().execute()).length, 0);
});

t.test('CORS: with no CALLBOARD_CORS_ORIGINS, no origin is allowed', async (t) => {
  const res = await ctx.app.inject({ url: '/api/v1/dashboard/', headers: { authorization: `Bearer ${await ctx.token('acct1@test')}`, origin: 'https://bi.example.com' } });
  t.equal(res.statusCode, 200);
  t.notOk(res.headers['access-control-allow-origin']);
  const pre = await ctx.app.inject({ method: 'OPTIONS', url: '/api/v1/dashboard/', headers: { origin: 'https://bi.example.com', 'access-control-request-method': 'GET' } });
  t.notOk(pre.headers['access-control-allow-origin'], 'no preflight either');
});
