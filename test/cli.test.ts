import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { loadConfig, ConfigError } from '../src/config/config.ts';
import { tmpDir } from './helpers/fixture.ts';
import { addUser, checkPassword, type NewUser } from '../src/auth/users.ts';
import { openMeta } from '../src/meta/db.ts';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.resolve('bin/callboard.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

t.test('--help lists every command and variable', async (t) => {
  const r = cli(['--help']);
  t.equal(r.status, 0);
  for (const word of ['serve', 'sync', 'seed', 'billing --month YYYY-MM', 'rejects [--table T] [--limit N]', 'users add', 'keys add --partner-id N', 'keys revoke', 'jobs', '--role admin|partner|account', 'CALLBOARD_SOURCE', 'CALLBOARD_SYNC_CRON', 'CALLBOARD_JWT_SECRET', 'CALLBOARD_DATA_DIR', 'PORT']) {
    t.match(r.stdout, word);
  }
});

t.test('a bad setting stops start-up with a message naming the variable', async (t) => {
  const bad: Record<string, string> = {
    CALLBOARD_SOURCE: 'mysql://x', CALLBOARD_SYNC_CRON: 'every minute', PORT: 'eighty', CALLBOARD_JWT_SECRET: 'short', CALLBOARD_LOG_LEVEL: 'loud',
  };
  for (const [name, value] of Object.entries(bad)) {
    let error: unknown = null;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    t.ok(error instanceof ConfigError, `${name}=${value} is refused`);
    t.match((error as Error).message, name, 'the message names the variable');
  }
  // A malformed URL names the variable and never echoes the password.
  let badUrl: unknown = null;
  try {
    loadConfig({ CALLBOARD_SOURCE: 'postgres://u:secret@:bad' });
  } catch (err) {
    badUrl = err;
  }
  t.ok(badUrl instanceof ConfigError, 'a postgres URL without a host is refused');
  t.match((badUrl as Error).message, /^CALLBOARD_SOURCE: /);
  t.notMatch((badUrl as Error).message, /secret/, 'without its password');
  const r = cli(['serve'], { CALLBOARD_SYNC_CRON: 'every minute' });
  t.equal(r.status, 2);
  t.match(r.stderr, /CALLBOARD_SYNC_CRON/);
  t.same(loadConfig({}).port, 3000);
  const templates = tmpDir('bad-templates');
  fs.mkdirSync(path.join(templates, '1'));
  fs.writeFileSync(path.join(templates, '1', 'dashboard.json'), '{"templates":{"x":{"columns":["nope"]}}}');
  const refused = cli(['serve'], { CALLBOARD_DATA_DIR: tmpDir('cli-templates'), CALLBOARD_TEMPLATES_DIR: templates });
  t.equal(refused.status, 2, 'a bad template stops start-up');
  t.match(refused.stderr, /CALLBOARD_TEMPLATES_DIR: .*1\/dashboard\.json: template "x", columns\[0\]: "nope" is not a column of dashboard/);
});

t.test('seed, users add and an offline sync from the command line', async (t) => {
  const dir = tmpDir('cli');
  const env = { CALLBOARD_DATA_DIR: dir };
  const seed = cli(['seed', '--calls', '500', '--now', '2026-06-01T00:00:00Z'], env);
  t.equal(seed.status, 0, seed.stderr);
  t.match(seed.stdout, /calls\s+500/);
  const add = cli(['users', 'add', '--email', 'ops@example.com', '--password', 'long-enough', '--role', 'account', '--account-id', '2'], env);
  t.equal(add.status, 0, add.stderr);
  // An account or partner the source does not have would see nothing: refused.
  const ghost = cli(['users', 'add', '--email', 'ghost@example.com', '--password', 'long-enough', '--role', 'account', '--account-id', '999'], env);
  t.equal(ghost.status, 2);
  t.match(ghost.stderr, /no account 999 in the source/);
  const ghostPartner = cli(['users', 'add', '--email', 'ghost@example.com', '--password', 'long-enough', '--role', 'partner', '--partner-id', '999'], env);
  t.match(ghostPartner.stderr, /no partner 999 in the source/);
  const missing = cli(['users', 'add', '--email', 'p@example.com', '--password', 'long-enough', '--role', 'partner'], env);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /--partner-id/);
  // An option that does not fit the role is refused (one through the command, the rest in process).
  const misfit = cli(['users', 'add', '--email', 'a-x@example.com', '--password', 'long-enough', '--role', 'admin', '--account-id', '1'], env);
  t.equal(misfit.status, 2, 'an admin with --account-id is refused');
  t.match(misfit.stderr, /--account-id is for account users/);
  const meta = await openMeta(path.join(dir, 'meta.db'));
  const roles: [NewUser, string][] = [
    [{ email: 'b@example.com', password: 'long-enough', role: 'admin', partnerId: 1 }, '--partner-id'],
    [{ email: 'c@example.com', password: 'long-enough', role: 'account', accountId: 1, partnerId: 1 }, '--partner-id'],
    [{ email: 'd@example.com', password: 'long-enough', role: 'partner', partnerId: 1, accountId: 1 }, '--account-id'],
  ];
  for (const [u, option] of roles) await t.rejects(addUser(meta, u), new RegExp(option), `${u.role} with ${option}`);
  await meta.destroy();
  const dup = cli(['users', 'add', '--email', 'ops@example.com', '--password', 'long-enough', '--role', 'admin'], env);
  t.match(dup.stderr, /exists already/);
  const sync = cli(['sync'], env);
  t.equal(sync.status, 0, sync.stderr);
  t.match(sync.stdout, /sync done: \d+ rows read/);
  const jobs = cli(['jobs'], env);
  t.equal(jobs.status, 0, jobs.stderr);
  t.match(jobs.stdout, /#1\s+sync\s+ok\s+.*read=\d+ upserted=\d+ rejected=0/, 'the run with its counts');

  // A month's billing files, written by the CLI itself with no server running …
  const files = ['billing_reconciliation_2026-05.csv', 'billing_reconciliation_2026-05.xlsx'];
  const billingDir = path.join(dir, 'exports', 'billing');
  const billing = cli(['billing', '--month', '2026-05'], env);
  t.equal(billing.status, 0, billing.stderr);
  t.match(billing.stdout, /billing 2026-05: \d+ accounts/);
  t.strictSame(fs.readdirSync(billingDir).sort(), files);
  // The store, the metadata (password hashes) and the exports are their owner's alone.
  const others = (f: string) => fs.statSync(f).mode & 0o077;
  for (const f of ['callboard.duckdb', 'meta.db', ...files.map((x) => path.join('exports', 'billing', x))]) t.equal(others(path.join(dir, f)), 0, `${f} is readable by its owner only`);
  t.equal(others(dir), 0, 'and so is the data directory');
  fs.rmSync(billingDir, { recursive: true });
  // A file an earlier version left readable by others is narrowed on the next start.
  fs.chmodSync(path.join(dir, 'meta.db'), 0o644);
  t.equal(cli(['jobs'], env).status, 0);
  t.equal(others(path.join(dir, 'meta.db')), 0, 'meta.db narrowed again');
  for (const bad of [['billing'], ['billing', '--month', '2026-13'], ['billing', '--month', '9999-01']]) {
    const r = cli(bad, env);
    t.equal(r.status, 2, bad.join(' '));
    t.match(r.stderr, /month/);
  }
  t.equal(cli(['jobs', '--job', 'nope'], env).status, 2, 'an unknown job name');

  // A bad row of the source, then the quarantined rows from the command line.
  const src = new Database(path.join(dir, 'demo-source.db'));
  src.prepare(`UPDATE calls SET status = 'lost', updated_at = '2030-01-01T00:00:00.000Z' WHERE id = 7`).run();
  src.close();
  t.equal(cli(['sync'], env).status, 0);
  const rejects = cli(['rejects', '--table', 'calls'], env);
  t.equal(rejects.status, 0, rejects.stderr);
  t.match(rejects.stdout, /calls 7\s+unknown status: lost\s+from sync run #\d+/);
  t.match(rejects.stdout, /"status":"lost"/, 'the row as read');
  t.equal(cli(['rejects', '--table', 'nope'], env).status, 2);

  // … and through the running server, which owns the store.
  const server = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], {
    env: { ...process.env, ...env, PORT: '0', CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  try {
    for (const end = Date.now() + 60_000; !fs.existsSync(path.join(dir, 'server.json')); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > end) throw new Error('the server did not start');
    }
    const remote = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'billing', '--month', '2026-05'], { env: { ...process.env, ...env } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
    t.equal(remote.code, 0, remote.out);
    t.match(remote.out, /asking it to run billing/);
    t.strictSame(fs.readdirSync(billingDir).sort(), files, 'the server wrote them');
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
});

t.test('keys add prints Partner API credentials once; keys list never shows a token; keys revoke', async (t) => {
  const env = { CALLBOARD_DATA_DIR: tmpDir('cli-keys') };
  t.equal(cli(['seed', '--calls', '300'], env).status, 0);
  const ghost = cli(['keys', 'add', '--partner-id', '999'], env);
  t.equal(ghost.status, 2, 'a partner the source does not have gets no key');
  t.match(ghost.stderr, /no partner 999 in the source/);
  const added = cli(['keys', 'add', '--partner-id', '1'], env);
  t.equal(added.status, 0, added.stderr);
  const id = /X-Auth-ID:\s+(\S+)/.exec(added.stdout)?.[1];
  const token = /X-Auth-Token:\s+(\S+)/.exec(added.stdout)?.[1];
  t.ok(id && token && token.length >= 40, 'an id and a long token');
  const listed = cli(['keys', 'list'], env);
  t.match(listed.stdout, id!);
  t.notMatch(listed.stdout, token!);
  t.equal(cli(['keys', 'revoke', '--auth-id', id!], env).status, 0);
  t.match(cli(['keys', 'list'], env).stdout, /revoked/);
  const again = cli(['keys', 'revoke', '--auth-id', id!], env);
  t.not(again.status, 0, 'a key is revoked once');
  t.match(again.stderr, /no live key/);
  const missing = cli(['keys', 'add'], env);
  t.match(missing.stderr, /--partner-id/);
});

t.test('a port in use is one clear line and exit code 2', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as net.AddressInfo;
  try {
    const r = cli(['serve'], { CALLBOARD_DATA_DIR: tmpDir('cli-port'), CALLBOARD_DEMO_CALLS: '300', PORT: String(port), CALLBOARD_LOG_LEVEL: 'warn' });
    t.equal(r.status, 2);
    t.match(r.stderr, `PORT: 127.0.0.1:${port} is already in use`);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    blocker.close();
  }
});

t.test('users list, disable, enable, passwd and remove from the command line', async (t) => {
  const dir = tmpDir('cli-users');
  const env = { CALLBOARD_DATA_DIR: dir };
  t.equal(cli(['seed', '--calls', '300'], env).status, 0);
  t.equal(cli(['users', 'add', '--email', 'u1@example.com', '--password', 'long-enough', '--role', 'account', '--account-id', '1'], env).status, 0);
  t.match(cli(['users', 'list'], env).stdout, /u1@example\.com\s+account of account 1/);
  const disabled = cli(['users', 'disable', '--email', 'u1@example.com'], env);
  t.equal(disabled.status, 0, disabled.stderr);
  t.match(cli(['users', 'list'], env).stdout, /u1@example\.com.*DISABLED/);
  const meta = await openMeta(path.join(dir, 'meta.db'));
  try {
    t.equal(await checkPassword(meta, 'u1@example.com', 'long-enough'), null, 'a disabled user cannot log in');
    t.equal(cli(['users', 'enable', '--email', 'u1@example.com'], env).status, 0);
    t.ok(await checkPassword(meta, 'u1@example.com', 'long-enough'), 'enabled again');
    t.equal(cli(['users', 'passwd', '--email', 'u1@example.com', '--password', 'another-one'], env).status, 0);
    t.equal(await checkPassword(meta, 'u1@example.com', 'long-enough'), null, 'the old password is gone');
    t.ok(await checkPassword(meta, 'u1@example.com', 'another-one'));
    t.match(cli(['users', 'passwd', '--email', 'u1@example.com', '--password', 'short'], env).stderr, /at least 8 characters/);
    t.equal(cli(['users', 'remove', '--email', 'u1@example.com'], env).status, 0);
    t.notMatch(cli(['users', 'list'], env).stdout, /u1@example\.com/);
    const gone = cli(['users', 'disable', '--email', 'u1@example.com'], env);
    t.equal(gone.status, 2);
    t.match(gone.stderr, /no user u1@example\.com/);
  } finally {
    await meta.destroy();
  }
});

