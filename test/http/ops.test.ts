import net from 'node:net';
import t from 'tap';
import { buildApp } from '../../src/http/app.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { JWT_SECRET, makeApp } from '../helpers/fixture.ts';

const ctx = await makeApp('ops', 1500);
t.teardown(ctx.close);

const asOf = async () => String((await ctx.store.all(`SELECT value FROM store_meta WHERE key = 'data_as_of'`))[0].value);

t.test('every report answer carries X-Data-As-Of, JSON bodies unchanged', async (t) => {
  const stamp = await asOf();
  t.ok(!Number.isNaN(Date.parse(stamp)), 'an ISO instant');
  const token = await ctx.token('admin@test');
  for (const url of [
    '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-31',
    '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-31&format=csv',
    '/api/v1/dashboard/?account_id=1', '/api/widgets/data?type=call_totals', '/api/billing/reconciliation?month=2026-11',
    '/api/calls?date_from=2026-12-01&date_to=2026-12-02&limit=5', '/api/system/campaigns/report/summary/',
  ]) {
    const res = await ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    t.equal(res.statusCode, 200, url);
    t.equal(res.headers['x-data-as-of'], stamp, url);
  }
  const body = (await ctx.get('/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-31', 'admin@test')).body;
  t.strictSame(Object.keys(body), ['data'], 'nothing added to the body');
  const login = await ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'admin@test', password: 'password-123' } });
  t.equal(login.headers['x-data-as-of'], undefined, 'not on login');
});

t.test('/healthz and /readyz', async (t) => {
  t.equal((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  t.equal(ready.json().data_as_of, await asOf());
  // Job runs are stamped by the wall clock.
  const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const run = (status: 'ok' | 'failed', minutesAgo: number, error: string | null = null) =>
    ctx.meta.insertInto('job_runs').values({ job: 'sync', started_at: at(minutesAgo), ended_at: at(minutesAgo - 0.1), status, stats: null, error, pid: process.pid }).execute();
  await run('ok', 30);
  const fiveAgo = at(5);
  await ctx.meta.insertInto('job_runs').values({ job: 'sync', started_at: fiveAgo, ended_at: fiveAgo, status: 'failed', stats: null, error: 'ECONNREFUSED', pid: process.pid }).execute();
  const briefly = await ctx.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(briefly.statusCode, 200, 'a source down for 5 minutes: still serving the last good data');
  t.match(briefly.json().message, /failing/);
  await run('failed', 2, 'ECONNREFUSED');
  await ctx.meta.updateTable('job_runs').set({ started_at: at(15) }).where('started_at', '=', fiveAgo).execute();
  const down = await ctx.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(down.statusCode, 503, 'failing for 15 minutes > 600 s');
  t.match(down.json().message, /^the sync has been failing for \d+ s/);
  t.notMatch(JSON.stringify(down.json()), /ECONNREFUSED/, 'anonymously, no error details');
  const forAdmin = await ctx.app.inject({ method: 'GET', url: '/readyz', headers: { authorization: `Bearer ${await ctx.token('admin@test')}` } });
  t.equal(forAdmin.statusCode, 503);
  t.match(forAdmin.json().message, /ECONNREFUSED/, 'an admin sees the error');
  t.match(forAdmin.json().last_sync, { status: 'failed', error: 'ECONNREFUSED' });
  const forAccount = await ctx.app.inject({ method: 'GET', url: '/readyz', headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` } });
  t.notMatch(JSON.stringify(forAccount.json()), /ECONNREFUSED/, 'an account user does not');
  await run('ok', 1);
  t.equal((await ctx.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'back once a sync succeeds');
});

t.test('GET /api/admin/jobs lists runs for admins only', async (t) => {
  const res = await ctx.get('/api/admin/jobs?job=sync&limit=3', 'admin@test');
  t.equal(res.status, 200);
  t.equal(res.body.data.length, 3);
  t.equal(res.body.data[0].status, 'ok');
  t.equal(res.body.data[1].error, 'ECONNREFUSED');
  t.equal((await ctx.get('/api/admin/jobs', 'acct1@test')).status, 403);
  t.equal((await ctx.get('/api/admin/jobs', 'partner1@test')).status, 403);
  t.equal((await ctx.get('/api/admin/jobs?limit=0', 'admin@test')).status, 422);
  t.ok((await ctx.get('/api/admin/jobs?since=1', 'admin@test')).body.errors.since);
});

t.test('a request whose body never arrives is dropped, and does not hold up close', async (t) => {
  const app = await buildApp({ store: ctx.store, meta: ctx.meta, jwtSecret: JWT_SECRET, reports: reportCatalogue(), logLevel: 'silent', connectionTimeoutMs: 500 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write('POST /api/accounts/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
  const started = Date.now();
  const closed = await Promise.race([
    new Promise<boolean>((r) => socket.once('close', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
  ]);
  t.ok(closed, `the server closed the stalled connection (${Date.now() - started} ms)`);
  socket.destroy();
  const closing = Date.now();
  await app.close();
  t.ok(Date.now() - closing < 5_000, 'close is not held up');
});
