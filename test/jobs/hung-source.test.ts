import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import t from 'tap';
import { SyncJob } from '../../jobs/sync.ts';
import { openMeta } from '../../src/meta/db.ts';
import { Store } from '../../src/store/duckdb.ts';
import { makeApp, tmpDir } from '../helpers/fixture.ts';

// A source that accepts connections and never says a word: a PostgreSQL or a platform API
// hung behind a firewall or a stopped process. `closeFirst` drops the first connections at
// once instead (a source that is down), so start-up goes on.
async function silentListener(closeFirst = 0): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  let seen = 0;
  const server = net.createServer((s) => {
    seen++;
    if (seen <= closeFirst) s.destroy();
    else sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Settles `p` or reports that it hung: a test of a hang must not hang itself. */
async function settles<T>(p: Promise<T>, ms: number): Promise<{ value?: T; error?: Error; hung: boolean; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    const v = await Promise.race([p.then((value) => ({ value }), (error: Error) => ({ error })), hung]);
    return v === 'hung' ? { hung: true, ms: Date.now() - started } : { ...v, hung: false, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

const dir = tmpDir('hung-source');
const store = await Store.open(path.join(dir, 'store.duckdb'));
const meta = await openMeta(path.join(dir, 'meta.db'));
t.teardown(async () => {
  await store.close();
  await meta.destroy();
});
const lastSync = () => meta.selectFrom('job_runs').selectAll().where('job', '=', 'sync').orderBy('id', 'desc').executeTakeFirstOrThrow();

t.test('a PostgreSQL that never answers fails the run at the connect timeout', async (t) => {
  const hung = await silentListener();
  t.teardown(hung.close);
  const job = new SyncJob(store, meta, `postgres://u:p@127.0.0.1:${hung.port}/db`, { timeouts: { connectMs: 500, statementMs: 5_000, idleMs: 1_000 } });
  const r = await settles(job.run(), 20_000);
  t.notOk(r.hung, `the run settled (${r.ms} ms)`);
  t.match(r.error?.message, /timeout/i);
  t.ok(hung.connections() >= 1, 'it did connect');
  t.equal((await lastSync()).status, 'failed', 'recorded as failed');
  t.notOk(job.busy, 'the next run is free to start');
});

t.test('the watchdog fails a run past CALLBOARD_SYNC_TIMEOUT_SEC, and the next run starts afresh', async (t) => {
  const hung = await silentListener();
  t.teardown(hung.close);
  const job = new SyncJob(store, meta, `postgres://u:p@127.0.0.1:${hung.port}/db`, {
    timeouts: { connectMs: 600_000, statementMs: 600_000, idleMs: 1_000 }, timeoutMs: 800,
  });
  const first = await settles(job.run(), 20_000);
  t.notOk(first.hung, `the run settled (${first.ms} ms)`);
  t.match(first.error?.message, /CALLBOARD_SYNC_TIMEOUT_SEC \(1 s\)/);
  const row = await lastSync();
  t.equal(row.status, 'failed');
  t.match(row.error, /CALLBOARD_SYNC_TIMEOUT_SEC/);
  t.notOk(job.busy, 'not skipped as "already running"');
  const second = await settles(job.run(), 20_000);
  t.notOk(second.hung);
  t.ok(hung.connections() >= 2, 'the second run connected again: it was not joined to the first');
});

t.test('a platform API that never answers fails the run at the request timeout', async (t) => {
  const hung = await silentListener();
  t.teardown(hung.close);
  const job = new SyncJob(store, meta, `platform+http://me%40x.test:pw@127.0.0.1:${hung.port}/?account_id=1`, {
    timeouts: { connectMs: 500, statementMs: 700, idleMs: 1_000 },
  });
  const r = await settles(job.run(), 20_000);
  t.notOk(r.hung, `the run settled (${r.ms} ms)`);
  t.match(r.error?.message, /platform unreachable/);
});

t.test('/readyz counts a sync running past its limit as failing', async (t) => {
  const ctx = await makeApp('hung-readyz', 300, undefined, { syncTimeoutSec: 60 });
  t.teardown(ctx.close);
  const ready = await ctx.app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 200, 'ready while nothing runs');
  const started = new Date(Date.now() - 2 * 3600_000).toISOString();
  await ctx.meta.insertInto('job_runs').values({ job: 'sync', status: 'running', started_at: started, pid: process.pid }).execute();
  const stuck = await ctx.app.inject({ url: '/readyz' });
  t.equal(stuck.statusCode, 503);
  t.match(stuck.json().message, /running for \d+ s, past its limit of 60 s/);
  const fresh = new Date(Date.now() - 10_000).toISOString();
  await ctx.meta.updateTable('job_runs').set({ started_at: fresh }).where('status', '=', 'running').execute();
  t.equal((await ctx.app.inject({ url: '/readyz' })).statusCode, 200, 'a run within its limit is a sync in progress');
});

const cliEnv = (dataDir: string, source: string, extra: Record<string, string> = {}) => ({
  ...process.env, CALLBOARD_DATA_DIR: dataDir, CALLBOARD_SOURCE: source, CALLBOARD_LOG_LEVEL: 'warn', ...extra,
});

t.test('`callboard sync` against a hung source ends with an error, not a wait', async (t) => {
  const hung = await silentListener();
  t.teardown(hung.close);
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.resolve('bin/callboard.js'), 'sync'], {
    env: cliEnv(tmpDir('hung-cli'), `postgres://u:p@127.0.0.1:${hung.port}/db`, { CALLBOARD_SOURCE_CONNECT_TIMEOUT_SEC: '1' }),
    encoding: 'utf8', timeout: 60_000,
  });
  t.not(r.signal, 'SIGTERM', `it ended by itself (${Date.now() - started} ms)`);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /timeout/i);
});

t.test('SIGTERM stops a server whose sync hangs on its source, within the shutdown bound', async (t) => {
  // The start-up check meets a source that is down and goes on; the first sync then hangs.
  const hung = await silentListener(1);
  t.teardown(hung.close);
  const dataDir = tmpDir('hung-serve');
  const server = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], {
    env: cliEnv(dataDir, `postgres://u:p@127.0.0.1:${hung.port}/db`, {
      PORT: '0', CALLBOARD_SOURCE_CONNECT_TIMEOUT_SEC: '600', CALLBOARD_SHUTDOWN_TIMEOUT_SEC: '5',
      CALLBOARD_SYNC_RETRIES: '0', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => server.once('exit', (code, signal) => r({ code, signal })));
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  const lines = readline.createInterface({ input: server.stdout! });
  const listening = new Promise<void>((resolve) => lines.on('line', (l) => { if (l.includes('listening on')) resolve(); }));
  const up = await settles(listening, 60_000);
  t.notOk(up.hung, `the server started (${stderr.slice(0, 500)})`);
  // Wait until the first sync is connected to the silent source.
  for (let i = 0; i < 100 && hung.connections() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(hung.connections() >= 2, 'the first sync is waiting on the source');
  const before = Date.now();
  server.kill('SIGTERM');
  const end = await settles(exited, 30_000);
  if (end.hung) server.kill('SIGKILL');
  t.notOk(end.hung, `it exited ${end.ms} ms after SIGTERM`);
  t.ok(Date.now() - before < 8_000, 'within the 5 s bound (and some start-up slack)');
  t.equal(end.value?.code, 0, `a clean exit: ${stderr.slice(-500)}`);
  t.notOk(fs.existsSync(path.join(dataDir, 'server.json')), 'the control file is removed');
});
