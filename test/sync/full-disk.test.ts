import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import t from 'tap';
import { recordRun } from '../../jobs/record.ts';
import { SyncJob } from '../../jobs/sync.ts';
import { addUser } from '../../src/auth/users.ts';
import { buildApp } from '../../src/http/app.ts';
import { openMeta } from '../../src/meta/db.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { healStore } from '../../src/server.ts';
import { Store } from '../../src/store/duckdb.ts';
import { FIXTURE_NOW, JWT_SECRET, makeSource, PASSWORD, tmpDir } from '../helpers/fixture.ts';

// A full disk on a real small filesystem (a tmpfs, mounted as root): the checkpoint
// DuckDB cannot write invalidates the store; the service must say so, keep the job's own
// error, answer 503 rather than 500, heal once space returns, and lose nothing.
const mount = tmpDir('full-disk');
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount], { encoding: 'utf8' });
if (mounted.status !== 0) {
  const why = `full-disk tests SKIPPED: cannot mount a tmpfs (${(mounted.stderr || mounted.error?.message || '').trim()}); they run as root, as CI does`;
  if (process.env.CI) t.fail(why);
  else t.test('full-disk tests', { skip: why }, async () => undefined);
} else {
  t.teardown(() => {
    spawnSync('umount', ['-l', mount]);
  });
  await run();
}

async function run(): Promise<void> {
  const sourceFile = await makeSource(tmpDir('full-disk-source'), 40_000);
  const store = await Store.open(path.join(mount, 'store.duckdb'));
  // The app's metadata shares the small disk; the sync's job records live elsewhere, so
  // the sync reaches the store before anything else fails.
  const meta = await openMeta(path.join(mount, 'meta.db'));
  const jobMeta = await openMeta(path.join(tmpDir('full-disk-jobs'), 'meta.db'));
  await addUser(meta, { email: 'admin@test', password: PASSWORD, role: 'admin' });
  const logs = new PassThrough();
  const lines: string[] = [];
  logs.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  const app = await buildApp({ store, meta, jwtSecret: JWT_SECRET, reports: reportCatalogue(), now: () => FIXTURE_NOW, logLevel: 'warn', logStream: logs });
  const healing = healStore(store, pino({ level: 'warn' }, logs), 200);
  const clean = await Store.open(path.join(tmpDir('full-disk-clean'), 'store.duckdb'));
  t.teardown(async () => {
    clearInterval(healing);
    await app.close();
    await store.close().catch(() => undefined);
    await clean.close();
    await meta.destroy();
    await jobMeta.destroy();
  });
  const job = new SyncJob(store, jobMeta, `sqlite:${sourceFile}`);
  const token = (await app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'admin@test', password: PASSWORD } })).json().data.token.access as string;
  const report = () => app.inject({ url: '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2026-12-31', headers: { authorization: `Bearer ${token}` } });
  const filler = path.join(mount, 'filler');
  const fill = () => {
    const fd = fs.openSync(filler, 'a');
    const chunk = Buffer.alloc(1 << 16);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch {
      // the disk is full
    } finally {
      fs.closeSync(fd);
    }
  };

  t.test('a first sync with room to spare', async (t) => {
    t.ok((await job.run()).upserted > 0);
    t.equal((await report()).statusCode, 200);
  });

  /** Later changes in the source, for a sync that must write. */
  const change = (where: string) => {
    const db = new Database(sourceFile);
    const { at } = db.prepare(`SELECT max(updated_at) AS at FROM calls`).get() as { at: string };
    db.prepare(`UPDATE calls SET talk_sec = talk_sec + 1, updated_at = ? WHERE ${where}`).run(new Date(Date.parse(at) + 60_000).toISOString());
    db.close();
  };

  t.test('a disk too full to commit: the sync fails with its own error, the store serves its last good data', async (t) => {
    change('id % 3 = 0');
    fill();
    const failed = await job.run().then(() => null, (err: Error) => err);
    t.match(failed?.message, /No space left on device/, `its own error: ${failed?.message.split('\n')[0]}`);
    t.equal(store.fatal, null, 'the transaction was rolled back; the store is whole');
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    t.equal((await report()).statusCode, 200, 'reports answer from the last good sync');
    const login = await app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'admin@test', password: PASSWORD } });
    t.equal(login.statusCode, 503, 'a login, which must write to the full meta.db, answers 503, not 500');
    t.match(login.json().message, /disk is full/);
  });

  t.test('a checkpoint on a full disk invalidates the store: /healthz fails, requests answer 503, the error is logged', async (t) => {
    fs.rmSync(filler);
    t.ok((await job.run()).upserted > 0, 'with room again, the sync commits (to the write-ahead log)');
    fill();
    // DuckDB checkpoints by itself as its log grows; here at once.
    const failed = await store.exec('CHECKPOINT').then(() => null, (err: Error) => err);
    t.match(failed?.message, /FATAL/, `${failed?.message.split('\n')[0]}`);
    t.ok(store.fatal, 'the store knows it is unusable');
    const health = await app.inject({ url: '/healthz' });
    t.equal(health.statusCode, 503, '/healthz fails');
    t.match(health.json().message, /unusable until it is reopened/);
    const r = await report();
    t.equal(r.statusCode, 503, 'a report answers 503, not 500');
    t.match(r.json().message, /storage error/);
    for (let i = 0; i < 50 && !lines.some((l) => /the store was invalidated/.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
    t.ok(lines.some((l) => /the store was invalidated/.test(l) && /No space left on device/.test(l)), 'the original error is logged');
    t.ok(store.fatal, 'it cannot be reopened while the disk is full');
  });

  t.test("a job's own error survives a meta.db that cannot record it", async (t) => {
    fs.rmSync(filler);
    const err = await recordRun(meta, 'test-job', async () => {
      fill();
      throw new Error('the job\'s own failure');
    }).then(() => null, (e: Error & { unrecorded?: string }) => e);
    t.equal(err?.message, 'the job\'s own failure', 'the error thrown (and logged by the schedule) is the job\'s');
    t.match(err?.unrecorded, /could not be recorded: .*(full|space)/i, 'with why it is not in job_runs');
    fs.rmSync(filler);
    fill();
  });

  t.test('space returns: the store heals by itself, keeps every commit, and equals a clean sync', async (t) => {
    fs.rmSync(filler);
    for (let i = 0; i < 100 && store.fatal; i++) await new Promise((r) => setTimeout(r, 100));
    t.equal(store.fatal, null, 'reopened');
    t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    change('id % 5 = 0');
    const again = await job.run();
    t.ok(again.upserted > 0, 'the next sync loads the later changes');
    const source = new SyncJob(clean, jobMeta, `sqlite:${sourceFile}`);
    await source.run();
    for (const table of ['calls', 'leads', 'credit_transactions', 'sms_messages', 'call_slots', 'lead_activity', 'ledger_slots']) {
      const q = `SELECT count(*) AS n, sum(hash(COLUMNS(*))) FROM ${table}`;
      t.strictSame(await store.all(q), await clean.all(q), `${table}: the same rows as a clean sync`);
    }
    t.equal((await report()).statusCode, 200);
  });
}
