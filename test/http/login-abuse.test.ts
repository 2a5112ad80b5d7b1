import bcrypt from 'bcryptjs';
import t from 'tap';
import { addUser } from '../../src/auth/users.ts';
import { PASSWORD, makeApp } from '../helpers/fixture.ts';

// Login cannot be used against the service: limits per client address and per account
// with a growing wait, hashes off the event loop (scrypt), old bcrypt hashes upgraded, and
// no password cut at bcrypt's 72 bytes.
const ctx = await makeApp('login-abuse', 300, undefined, { loginLimits: { perClientPerMinute: 5, perAccountPerQuarterHour: 3 } });
t.teardown(ctx.close);
const login = (email: string, password: string, ip = '10.0.0.1') =>
  ctx.app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email, password }, remoteAddress: ip });

t.test('wrong passwords from one address meet 429 with Retry-After, and the right one then waits too', async (t) => {
  const statuses: number[] = [];
  // Each try for another account, so only the per-address limit applies.
  for (let i = 0; i < 8; i++) statuses.push((await login(`nobody${i}@test`, 'wrong-password', '10.0.0.2')).statusCode);
  t.strictSame(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
  const refused = await login('admin@test', PASSWORD, '10.0.0.2');
  t.equal(refused.statusCode, 429, 'a guess that happens to be right is not let through');
  t.ok(Number(refused.headers['retry-after']) > 0, `Retry-After: ${refused.headers['retry-after']}`);
  t.match(refused.json().message, /Too many login attempts from this address/);
  t.equal((await login('admin@test', PASSWORD, '10.0.0.3')).statusCode, 200, 'another address is not held');
});

t.test('one account tried from many addresses is held, and each try past the limit doubles the wait', async (t) => {
  const statuses: number[] = [];
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await login('acct2@test', 'wrong-password', `10.1.0.${i + 1}`);
    statuses.push(res.statusCode);
    if (res.statusCode === 429) waits.push(Number(res.headers['retry-after']));
  }
  t.strictSame(statuses, [401, 401, 401, 429, 429, 429]);
  t.ok(waits[1] > waits[0] && waits[2] > waits[1], `the wait grows: ${waits.join(', ')} s`);
  const right = await login('ACCT2@test', PASSWORD, '10.1.0.99');
  t.equal(right.statusCode, 429, 'the account is held whatever the case of its email');
  t.match(right.json().message, /for this account/);
});

t.test('new passwords are hashed with scrypt; a bcrypt hash is upgraded at the next login', async (t) => {
  const row = await ctx.meta.selectFrom('users').select('password_hash').where('email', '=', 'acct1@test').executeTakeFirstOrThrow();
  t.match(row.password_hash, /^scrypt\$16384\$8\$1\$/);
  await ctx.meta.insertInto('users').values({
    email: 'legacy@test', password_hash: bcrypt.hashSync(PASSWORD, 10), role: 'admin', account_id: null, partner_id: null,
    first_name: 'Old', last_name: 'Hash', created_at: new Date().toISOString(),
  }).execute();
  t.equal((await login('legacy@test', 'wrong-password', '10.2.0.1')).statusCode, 401);
  t.match((await ctx.meta.selectFrom('users').select('password_hash').where('email', '=', 'legacy@test').executeTakeFirstOrThrow()).password_hash, /^\$2[ab]\$/, 'a failed login changes nothing');
  t.equal((await login('legacy@test', PASSWORD, '10.2.0.1')).statusCode, 200);
  const after = (await ctx.meta.selectFrom('users').select('password_hash').where('email', '=', 'legacy@test').executeTakeFirstOrThrow()).password_hash;
  t.match(after, /^scrypt\$/, 'upgraded');
  t.equal((await login('legacy@test', PASSWORD, '10.2.0.1')).statusCode, 200, 'and the password still works');
});

t.test('a password is never cut at 72 bytes', async (t) => {
  const long = 'é'.repeat(40) + 'tail-one'; // 88 bytes
  const other = 'é'.repeat(40) + 'tail-two'; // the same first 72 bytes
  await addUser(ctx.meta, { email: 'long@test', password: long, role: 'admin' });
  t.equal((await login('long@test', long, '10.3.0.1')).statusCode, 200);
  t.equal((await login('long@test', other, '10.3.0.1')).statusCode, 401, 'the bytes after the 72nd count');
  // A bcrypt hash could only be checked on the first 72 bytes: a longer password is refused against it.
  await ctx.meta.insertInto('users').values({
    email: 'long-legacy@test', password_hash: bcrypt.hashSync(long, 10), role: 'admin', account_id: null, partner_id: null,
    first_name: '', last_name: '', created_at: new Date().toISOString(),
  }).execute();
  t.equal((await login('long-legacy@test', other, '10.3.0.2')).statusCode, 401, 'bcrypt would have said yes');
  await t.rejects(addUser(ctx.meta, { email: 'huge@test', password: 'x'.repeat(1025), role: 'admin' }), /at most 1024 bytes/);
  t.equal((await login('admin@test', 'x'.repeat(100_000), '10.3.0.3')).statusCode, 401, 'a huge password is refused without hashing it');
});
