import { SignJWT } from 'jose';
import t from 'tap';
import { RetentionJob } from '../../jobs/retention.ts';
import { JWT_SECRET, PASSWORD, makeApp } from '../helpers/fixture.ts';
import { addUser, removeUser, setDisabled } from '../../src/auth/users.ts';
import { ACCESS_TTL_SEC, Tokens } from '../../src/auth/tokens.ts';

// Tokens that cannot be used against the service: no expiry, a refresh token's user
// swapped, a refresh token after logout; expired ones are pruned.
const ctx = await makeApp('auth', 300);
t.teardown(ctx.close);
const key = new TextEncoder().encode(JWT_SECRET);
const login = async (email: string) => (await ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email, password: PASSWORD } })).json().data.token as { access: string; refresh: string };
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
const dashboard = (access: string) => ctx.app.inject({ url: '/api/v1/dashboard/', headers: { authorization: `Bearer ${access}` } });
const refresh = (token: string) => ctx.app.inject({ method: 'POST', url: '/api/accounts/token/refresh/', payload: { refresh: token } });

t.test('a token without exp is refused', async (t) => {
  const { access } = await login('admin@test');
  t.equal((await dashboard(access)).statusCode, 200);
  const c = claims(access);
  const forever = await new SignJWT({ token_type: 'access', user_id: c.user_id }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setJti('x'.repeat(32)).sign(key);
  t.equal((await dashboard(forever)).statusCode, 401, 'signed with the right secret, but no expiry');
});

t.test('a token verified before is still refused once it expires, or when altered', async (t) => {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const tokens = new Tokens(JWT_SECRET, ctx.meta, () => new Date(clock));
  const access = await tokens.issueAccess(1);
  t.equal(await tokens.verify(access, 'access'), 1, 'valid');
  t.equal(await tokens.verify(access, 'access'), 1, 'valid again (remembered)');
  t.equal(await tokens.verify(access, 'refresh'), null, 'never as another type');
  const [h, , sig] = access.split('.');
  const other = Buffer.from(JSON.stringify({ ...claims(access), user_id: 2 })).toString('base64url');
  t.equal(await tokens.verify(`${h}.${other}.${sig}`, 'access'), null, 'another payload under its signature is refused');
  clock += (ACCESS_TTL_SEC - 1) * 1000;
  t.equal(await tokens.verify(access, 'access'), 1, 'a second before its expiry');
  clock += 1000;
  t.equal(await tokens.verify(access, 'access'), null, 'refused at its expiry');
  clock -= 5000;
  t.equal(await tokens.verify(access, 'access'), 1, 'and verified afresh when the clock says it is valid');
});

t.test("a refresh token is checked against its row's user", async (t) => {
  const { refresh: mine } = await login('acct1@test');
  const c = claims(mine);
  const admin = claims((await login('admin@test')).access).user_id;
  const swapped = await new SignJWT({ token_type: 'refresh', user_id: admin }).setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(c.iat as number).setExpirationTime(c.exp as number).setJti(c.jti as string).sign(key);
  t.equal((await refresh(mine)).statusCode, 200, 'the real one works');
  t.equal((await refresh(swapped)).statusCode, 401, 'its jti under another user_id does not');
});

t.test('logout revokes the refresh token at once', async (t) => {
  const { refresh: token } = await login('acct2@test');
  t.equal((await refresh(token)).statusCode, 200);
  const out = await ctx.app.inject({ method: 'POST', url: '/api/accounts/logout/', payload: { refresh: token } });
  t.equal(out.statusCode, 200);
  t.match(out.json(), { success: true, message: 'Successfully logged out' });
  t.equal((await refresh(token)).statusCode, 401, 'no access token from it any more');
  t.equal((await ctx.app.inject({ method: 'POST', url: '/api/accounts/logout/', payload: { refresh: token } })).statusCode, 401, 'a second logout');
  t.equal((await ctx.app.inject({ method: 'POST', url: '/api/accounts/logout/', payload: {} })).statusCode, 400);
});

t.test('retention prunes expired refresh tokens', async (t) => {
  await ctx.meta.insertInto('refresh_tokens').values({ jti: 'expired-one', user_id: 1, expires_at: '2020-01-01T00:00:00.000Z', revoked_at: null }).execute();
  const r = await new RetentionJob(ctx.store, ctx.meta, 30).run();
  t.ok(r.refresh_tokens >= 1);
  t.equal((await ctx.meta.selectFrom('refresh_tokens').select('jti').where('jti', '=', 'expired-one').execute()).length, 0);
  t.ok((await ctx.meta.selectFrom('refresh_tokens').select('jti').execute()).length > 0, 'live ones stay');
});

t.test('disabling or removing a user ends its sessions and its access tokens at once', async (t) => {
  await addUser(ctx.meta, { email: 'leaver@test', password: PASSWORD, role: 'account', accountId: 1 });
  const first = await login('leaver@test');
  t.equal((await dashboard(first.access)).statusCode, 200);
  await setDisabled(ctx.meta, 'leaver@test', true);
  t.equal((await dashboard(first.access)).statusCode, 401, 'the access token stops working at once');
  t.equal((await refresh(first.refresh)).statusCode, 401, 'the refresh token is revoked');
  const refused = await ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'leaver@test', password: PASSWORD } });
  t.equal(refused.statusCode, 401, 'no new login');
  await setDisabled(ctx.meta, 'leaver@test', false);
  const second = await login('leaver@test');
  t.equal((await dashboard(second.access)).statusCode, 200, 'enabled again');
  t.equal((await refresh(first.refresh)).statusCode, 401, 'the old session stays ended');
  await removeUser(ctx.meta, 'leaver@test');
  t.equal((await dashboard(second.access)).statusCode, 401, 'removed: its access token stops working');
  t.equal((await refresh(second.refresh)).statusCode, 401);
});
