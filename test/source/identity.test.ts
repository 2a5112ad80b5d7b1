import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/config.ts';
import { openMeta } from '../../src/meta/db.ts';
import { redactSourceUrl } from '../../src/source/identity.ts';
import { serve } from '../../src/server.ts';
import { Store } from '../../src/store/duckdb.ts';
import { sourceRows, tmpDir } from '../helpers/fixture.ts';

// The store knows the source it was built from: another source stops serve and sync,
// reset rebuilds, and seed never regenerates a store's source under it unforced.
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [path.resolve('bin/callboard.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8', input: '' });
const QUIET = { CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn', PORT: '0' };

const dir = tmpDir('identity');
const a = path.join(dir, 'a.db');
const b = path.join(dir, 'b.db');
const data = path.join(dir, 'data');
for (const [file, now] of [[a, '2026-06-01T00:00:00Z'], [b, '2026-07-01T00:00:00Z']]) {
  const r = cli(['seed', '--out', `sqlite:${file}`, '--calls', '400', '--now', now], { CALLBOARD_DATA_DIR: path.join(dir, 'scratch') });
  if (r.status !== 0) throw new Error(r.stderr);
}
const storedCalls = async (dataDir: string) => {
  const store = await Store.open(path.join(dataDir, 'callboard.duckdb'));
  try {
    const [row] = await store.all(`SELECT count(*)::INTEGER AS n, min(id)::INTEGER AS lo, max(id)::INTEGER AS hi FROM calls`);
    const meta = await store.all(`SELECT key, value FROM store_meta WHERE key LIKE 'source_%' ORDER BY key`);
    return { n: Number(row.n), source: meta.map((m) => String(m.value)) };
  } finally {
    await store.close();
  }
};

t.test('source URLs lose their credentials; SQLite paths become absolute', async (t) => {
  t.equal(redactSourceUrl('postgres://alice:s3cret@db.example:5432/calls'), 'postgres://db.example:5432/calls');
  t.equal(redactSourceUrl('sqlite:./x.db'), `sqlite:${path.resolve('x.db')}`);
  t.equal(redactSourceUrl('platform+https://me%40x.test:pw@api.example/?account_id=3'), 'platform+https://api.example/?account_id=3');
});

t.test('another source stops sync and serve with exit 2; reset rebuilds', async (t) => {
  const env = { CALLBOARD_DATA_DIR: data, ...QUIET };
  t.equal(cli(['sync'], { ...env, CALLBOARD_SOURCE: `sqlite:${a}` }).status, 0);
  const first = await storedCalls(data);
  t.equal(first.n, sourceRows(a, 'calls').length);
  t.equal(first.source[1], `sqlite:${a}`, 'the store records its source');
  t.match(first.source[0], /^[0-9a-f]{16}$/, 'and its fingerprint');

  for (const command of ['sync', 'serve']) {
    const r = cli([command], { ...env, CALLBOARD_SOURCE: `sqlite:${b}` });
    t.equal(r.status, 2, `${command} stops`);
    t.match(r.stderr, `was built from sqlite:${a}`);
    t.match(r.stderr, `the configured source is sqlite:${b}`);
    t.match(r.stderr, /callboard reset --yes/, 'and says the way out');
  }
  t.strictSame(await storedCalls(data), first, 'nothing was merged');

  // The same database under another path is the same source.
  const copy = path.join(dir, 'a-copy.db');
  fs.copyFileSync(a, copy);
  t.equal(cli(['sync'], { ...env, CALLBOARD_SOURCE: `sqlite:${copy}` }).status, 0, 'a moved source is accepted by its fingerprint');

  const unconfirmed = cli(['reset'], { ...env, CALLBOARD_SOURCE: `sqlite:${b}` });
  t.equal(unconfirmed.status, 2, 'reset asks for confirmation');
  t.match(unconfirmed.stderr, /--yes/);
  const reset = cli(['reset', '--yes'], { ...env, CALLBOARD_SOURCE: `sqlite:${b}` });
  t.equal(reset.status, 0, reset.stderr);
  const rebuilt = await storedCalls(data);
  t.equal(rebuilt.n, sourceRows(b, 'calls').length, 'the store holds the new source only');
  t.equal(rebuilt.source[1], `sqlite:${b}`);
  t.equal(cli(['sync'], { ...env, CALLBOARD_SOURCE: `sqlite:${b}` }).status, 0, 'and syncs from it');
});

t.test('seed refuses to regenerate the store\'s own source unless forced; the next sync rebuilds', async (t) => {
  const demo = path.join(dir, 'demo');
  const env = { CALLBOARD_DATA_DIR: demo, ...QUIET };
  t.equal(cli(['seed', '--calls', '300', '--now', '2026-06-01T00:00:00Z'], env).status, 0);
  t.equal(cli(['sync'], env).status, 0);
  const again = cli(['seed', '--calls', '500', '--now', '2026-09-01T00:00:00Z'], env);
  t.equal(again.status, 2, 'refused');
  t.match(again.stderr, /--force/);
  t.equal((await storedCalls(demo)).n, 300);
  const forced = cli(['seed', '--calls', '500', '--now', '2026-09-01T00:00:00Z', '--force'], env);
  t.equal(forced.status, 0, forced.stderr);
  t.match(forced.stdout, /rebuilt from scratch by the next sync/);
  t.equal(cli(['sync'], env).status, 0);
  t.equal((await storedCalls(demo)).n, 500, 'the store holds the new demo source only');
  t.notOk(fs.existsSync(path.join(demo, 'rebuild-store')), 'the rebuild is done once');
  t.equal(cli(['sync'], env).status, 0);
  t.equal((await storedCalls(demo)).n, 500);
});

t.test('the demo users log in only while the source is the demo source', async (t) => {
  const demo = path.join(dir, 'demo');
  const env = { CALLBOARD_DATA_DIR: demo, ...QUIET };
  const login = async (base: string) => (await fetch(`${base}/api/accounts/login/`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@callboard.local', password: 'callboard-demo' }),
  })).status;
  const started = async (source?: string) => {
    const server = await serve(loadConfig({ ...env, ...(source ? { CALLBOARD_SOURCE: source } : {}) }), () => undefined);
    const { port } = JSON.parse(fs.readFileSync(path.join(demo, 'server.json'), 'utf8')) as { port: number };
    return { server, base: `http://127.0.0.1:${port}` };
  };
  const onDemo = await started();
  t.equal(await login(onDemo.base), 200, 'over the demo source');
  await onDemo.server.close();
  t.equal(cli(['reset', '--yes'], { ...env, CALLBOARD_SOURCE: `sqlite:${b}` }).status, 0);
  const onReal = await started(`sqlite:${b}`);
  t.equal(await login(onReal.base), 401, 'over a real source they are gone');
  await onReal.server.close();
  const meta = await openMeta(path.join(demo, 'meta.db'));
  t.equal((await meta.selectFrom('users').select('email').where('email', 'like', '%@callboard.local').execute()).length, 0);
  await meta.destroy();
});
