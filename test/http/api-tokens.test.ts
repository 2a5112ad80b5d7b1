import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { addApiToken, listApiTokens } from '../../src/auth/api-tokens.ts';
import { addUser, removeUser, setDisabled } from '../../src/auth/users.ts';
import { openMeta } from '../../src/meta/db.ts';
import { addSubscription, checkSubscription } from '../../src/delivery/subscriptions.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { PASSWORD, makeApp, tmpDir } from '../helpers/fixture.ts';

// API tokens: a BI tool's Bearer credential, acting as one user with exactly its scope.
const ctx = await makeApp('api-tokens', 2000, undefined, { corsOrigins: ['https://bi.example.com'] });
t.teardown(ctx.close);

const as = (credential: string, url: string, extra: Record<string, string> = {}) => ctx.app.inject({ url, headers: { authorization: `Bearer ${credential}`, ...extra } });
const userIdOf = async (email: string) => (await ctx.meta.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
const newToken = async (email: string, name = 'bi') => {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/tokens', headers: { authorization: `Bearer ${await ctx.token(email)}` }, payload: { name } });
  if (res.statusCode !== 201) throw new Error(`POST /api/tokens answered ${res.statusCode}: ${res.body}`);
  return res.json() as { id: string; token: string; expires_at: string | null };
};

const REPORTS = [
  '/api/v1/dashboard/',
  '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2027-01-09&timezone=America/New_York',
  '/api/telesales/reports/agent-performance?date_from=2026-12-01&date_to=2027-01-09',
  '/api/calls?date_from=2027-01-01&date_to=2027-01-09&limit=50',
  '/api/system/campaigns/report/summary/',
  '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2027-01-09&account_id=2',
];

t.test('a token answers exactly what its user\'s session answers, on every role', async (t) => {
  for (const email of ['admin@test', 'partner1@test', 'acct1@test']) {
    const { token } = await newToken(email);
    t.match(token, /^cbt_[A-Za-z0-9_-]{43}$/);
    for (const url of REPORTS) {
      const bySession = await as(await ctx.token(email), url);
      const byToken = await as(token, url);
      t.equal(byToken.statusCode, bySession.statusCode, `${email} ${url}: the same status`);
      t.equal(byToken.body, bySession.body, `${email} ${url}: the same answer`);
    }
  }
  // Account 2 is outside acct1's scope: the same 404 by both.
  const { token } = await newToken('acct1@test');
  t.equal((await as(token, REPORTS[5])).statusCode, 404);
});

t.test('the partner API takes its key pair only, not a user\'s token', async (t) => {
  const { token } = await newToken('partner1@test');
  t.equal((await as(token, '/api/partner/v1/dashboard')).statusCode, 401);
});

t.test('revoking, disabling or removing stops a token at once', async (t) => {
  await addUser(ctx.meta, { email: 'bi-owner@test', password: PASSWORD, role: 'account', accountId: 1 });
  const a = await newToken('bi-owner@test', 'first');
  const b = await newToken('bi-owner@test', 'second');
  t.equal((await as(a.token, REPORTS[0])).statusCode, 200);
  const session = await ctx.token('bi-owner@test');
  const del = await ctx.app.inject({ method: 'DELETE', url: `/api/tokens/${a.id}`, headers: { authorization: `Bearer ${session}` } });
  t.equal(del.statusCode, 204);
  t.equal((await as(a.token, REPORTS[0])).statusCode, 401, 'revoked: refused at once');
  t.equal((await as(b.token, REPORTS[0])).statusCode, 200, 'the other token still works');
  await setDisabled(ctx.meta, 'bi-owner@test', true);
  t.equal((await as(b.token, REPORTS[0])).statusCode, 401, 'its user disabled');
  await setDisabled(ctx.meta, 'bi-owner@test', false);
  t.equal((await as(b.token, REPORTS[0])).statusCode, 200, 'enabled again');
  const id = await userIdOf('bi-owner@test');
  const sub = await addSubscription(ctx.meta, id, checkSubscription({ name: 'x', report: 'company/dashboard', cron: '0 7 * * *', zone: 'UTC', format: 'html', channels: [{ type: 'webhook', url: 'https://hooks.example.com/x' }] }, reportCatalogue(), {}, new Date()), new Date());
  await removeUser(ctx.meta, 'bi-owner@test');
  t.equal((await ctx.meta.selectFrom('subscriptions').select('id').where('id', '=', sub.id).execute()).length, 0, 'its subscriptions go with it');
  t.equal((await as(b.token, REPORTS[0])).statusCode, 401, 'its user removed');
  t.same(await listApiTokens(ctx.meta, id), [], 'removed with its user');
});

t.test('an expired token is refused; a user cannot revoke another\'s token', async (t) => {
  const uid = await userIdOf('acct2@test');
  const old = await addApiToken(ctx.meta, uid, 'old', 3_600_000, new Date(Date.now() - 2 * 3_600_000));
  t.equal((await as(old.token, REPORTS[0])).statusCode, 401, 'expired an hour ago');
  const mine = await newToken('acct2@test');
  const res = await ctx.app.inject({ method: 'DELETE', url: `/api/tokens/${mine.id}`, headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` } });
  t.equal(res.statusCode, 404);
  t.equal((await as(mine.token, REPORTS[0])).statusCode, 200);
  const tampered = mine.token.slice(0, -1) + (mine.token.endsWith('A') ? 'B' : 'A');
  t.equal((await as(tampered, REPORTS[0])).statusCode, 401, 'one character off');
});

t.test('tokens are listed with their last use; an API token cannot mint another', async (t) => {
  const made = await newToken('acct2@test', 'grafana');
  const session = await ctx.token('acct2@test');
  let list = (await as(session, '/api/tokens')).json().data as Array<Record<string, unknown>>;
  t.match(list.find((x) => x.id === made.id), { name: 'grafana', last_used_at: null, revoked_at: null });
  t.notOk(list.some((x) => 'token' in x || 'token_hash' in x), 'no secret in the list');
  await as(made.token, REPORTS[0]);
  list = (await as(session, '/api/tokens')).json().data;
  t.type(list.find((x) => x.id === made.id)?.last_used_at, 'string', 'its use is noted');
  const mint = await ctx.app.inject({ method: 'POST', url: '/api/tokens', headers: { authorization: `Bearer ${made.token}` }, payload: { name: 'x' } });
  t.equal(mint.statusCode, 403);
  const bad = await ctx.app.inject({ method: 'POST', url: '/api/tokens', headers: { authorization: `Bearer ${session}` }, payload: { name: '', expires_in: 'soon', scope: 'all' } });
  t.equal(bad.statusCode, 422);
  t.same(Object.keys(bad.json().errors).sort(), ['expires_in', 'name', 'scope']);
  const never = await ctx.app.inject({ method: 'POST', url: '/api/tokens', headers: { authorization: `Bearer ${session}` }, payload: { name: 'service', expires_in: 'never' } });
  t.equal(never.json().expires_at, null);
});

t.test('only a hash of the token is stored', async (t) => {
  const made = await newToken('admin@test', 'hash-check');
  const row = await ctx.meta.selectFrom('api_tokens').selectAll().where('id', '=', made.id).executeTakeFirstOrThrow();
  t.not(row.token_hash, made.token);
  t.notOk(Object.values(row).some((v) => typeof v === 'string' && v.includes(made.token.slice(4))), 'no column holds the secret');
  // The database file and its write-ahead log, read as bytes.
  const dir = path.dirname(ctx.sourceFile);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('meta.db')).map((f) => path.join(dir, f));
  t.ok(files.length > 0);
  for (const f of files) t.notOk(fs.readFileSync(f).includes(Buffer.from(made.token.slice(4))), `${path.basename(f)} does not hold it`);
});

t.test('CORS: listed origins only, and no cookies across origins', async (t) => {
  const ok = await as(await ctx.token('acct1@test'), REPORTS[0], { origin: 'https://bi.example.com' });
  t.equal(ok.headers['access-control-allow-origin'], 'https://bi.example.com');
  t.match(String(ok.headers['access-control-expose-headers']), /X-Data-As-Of/);
  t.notOk(ok.headers['access-control-allow-credentials']);
  const other = await as(await ctx.token('acct1@test'), REPORTS[0], { origin: 'https://evil.example.com' });
  t.notOk(other.headers['access-control-allow-origin'], 'another origin gets no CORS header');
  const pre = await ctx.app.inject({ method: 'OPTIONS', url: REPORTS[0], headers: { origin: 'https://bi.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  t.equal(pre.statusCode, 204);
  t.match(String(pre.headers['access-control-allow-headers']), /Authorization/);
});

t.test('callboard tokens add|list|revoke', async (t) => {
  const dir = tmpDir('api-tokens-cli');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/callboard.js'), ...args], { env: { ...process.env, CALLBOARD_DATA_DIR: dir }, encoding: 'utf8' });
  t.equal(cli('users', 'add', '--email', 'ops@test', '--password', PASSWORD, '--role', 'admin').status, 0);
  const bad = cli('tokens', 'add', '--user', 'ops@test', '--expires-in', 'soon');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--expires-in must be/);
  t.equal(cli('tokens', 'add', '--user', 'nobody@test').status, 2);
  const add = cli('tokens', 'add', '--user', 'ops@test', '--name', 'metabase', '--expires-in', '30d');
  t.equal(add.status, 0, add.stderr);
  const token = /^\s+(cbt_\S+)$/m.exec(add.stdout)?.[1];
  const id = /API token (tok_\w+)/.exec(add.stdout)?.[1];
  t.ok(token && id);
  const list = cli('tokens', 'list');
  t.match(list.stdout, new RegExp(`${id}\\s+ops@test\\s+"metabase"`));
  t.notOk(list.stdout.includes(token!), 'never the token');
  t.equal(cli('tokens', 'revoke', '--id', id!).status, 0);
  const row = await openMeta(path.join(dir, 'meta.db'));
  t.type((await row.selectFrom('api_tokens').select('revoked_at').where('id', '=', id!).executeTakeFirstOrThrow()).revoked_at, 'string', 'revoked in the store');
  await row.destroy();
});
