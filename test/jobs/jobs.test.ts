import fs from 'node:fs';
import Database from 'better-sqlite3';
import t from 'tap';
import { AbandonMonitor } from '../../jobs/abandon-monitor.ts';
import { RetentionJob } from '../../jobs/retention.ts';
import { backoffMs, withRetry } from '../../jobs/retry.ts';
import { startSchedule } from '../../jobs/schedule.ts';
import { SyncJob } from '../../jobs/sync.ts';
import { FIXTURE_NOW, makeApp, sourceRows } from '../helpers/fixture.ts';

const ctx = await makeApp('jobs', 3000, undefined, { readyMaxFailingSec: 3600 });
t.teardown(ctx.close);

t.test('retries back off exponentially with jitter, and give up', async (t) => {
  const waits: number[] = [];
  let calls = 0;
  const ok = await withRetry(async () => {
    if (++calls < 3) throw new Error(`down ${calls}`);
    return 'up';
  }, { retries: 4, baseMs: 100, maxMs: 1000 }, { sleep: async (ms) => void waits.push(ms), random: () => 1 });
  t.equal(ok, 'up');
  t.strictSame(waits, [100, 200], 'base × 2^n');
  t.equal(backoffMs(10, { retries: 0, baseMs: 100, maxMs: 1000 }, () => 1), 1000, 'capped');
  t.equal(backoffMs(3, { retries: 0, baseMs: 100, maxMs: 1000 }, () => 0.25), 200, 'full jitter: a random share of the cap');
  let n = 0;
  await t.rejects(withRetry(async () => { n++; throw new Error('still down'); }, { retries: 2, baseMs: 1, maxMs: 1 }, { sleep: async () => undefined }), /still down/);
  t.equal(n, 3, 'the first try and two retries');
  let stopped = 0;
  await t.rejects(withRetry(async () => { stopped++; throw new Error('x'); }, { retries: 5, baseMs: 1, maxMs: 1 }, { sleep: async () => undefined, stop: () => stopped >= 2 }));
  t.equal(stopped, 2, 'stop() ends the retrying');
});

t.test('the schedule never overlaps a job with itself and retries a failed run', async (t) => {
  let running = 0, most = 0, runs = 0, failures = 0;
  const warned: string[] = [];
  const schedule = startSchedule([{
    name: 'slow', cron: '* * * * * *', busy: () => running > 0, retry: { retries: 2, baseMs: 10, maxMs: 10 },
    run: async () => {
      running++;
      most = Math.max(most, running);
      try {
        await new Promise((r) => setTimeout(r, 1500));
        if (runs++ === 0) {
          failures++;
          throw new Error('first run fails');
        }
      } finally {
        running--;
      }
    },
  }], { info: () => undefined, warn: (o) => void warned.push(JSON.stringify(o)), error: () => undefined });
  await new Promise((r) => setTimeout(r, 4600));
  schedule.stop();
  for (const task of schedule.tasks) await task.destroy();
  t.equal(most, 1, 'one run at a time');
  t.ok(runs >= 2, `${runs} runs in 4.6 s of 1.5 s runs`);
  t.equal(failures, 1);
  t.equal(warned.length, 1, 'the failure was retried');
});

t.test('a source down for three runs, then back: the last good data stays served, nothing lost or duplicated', async (t) => {
  const job = new SyncJob(ctx.store, ctx.meta, `sqlite:${ctx.sourceFile}`);
  const url = '/api/telesales/reports/dashboard?date_from=2026-12-01&date_to=2027-01-10';
  const before = await ctx.get(url, 'admin@test');
  fs.renameSync(ctx.sourceFile, `${ctx.sourceFile}.away`);
  for (let i = 0; i < 3; i++) await t.rejects(job.run(), `run ${i + 1} fails`);
  const failed = await ctx.meta.selectFrom('job_runs').selectAll().where('job', '=', 'sync').where('status', '=', 'failed').execute();
  t.equal(failed.length, 3, 'each failed run is recorded');
  t.ok(failed.every((r) => r.error), 'with its error');
  t.strictSame((await ctx.get(url, 'admin@test')).body, before.body, 'reports answer from the last good data');
  t.equal((await ctx.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'still ready within the threshold');

  fs.renameSync(`${ctx.sourceFile}.away`, ctx.sourceFile);
  // While it was down, a late disposition was set on an old call.
  const db = new Database(ctx.sourceFile);
  const { top } = db.prepare(`SELECT max(updated_at) AS top FROM calls`).get() as { top: string };
  const call = db.prepare(`SELECT id FROM calls WHERE disposition_code IS NULL AND account_id = 1 AND direction = 'outbound' ORDER BY id LIMIT 1`).get() as { id: number };
  const code = (db.prepare(`SELECT code FROM dispositions WHERE account_id = 1 LIMIT 1`).get() as { code: string }).code;
  db.prepare(`UPDATE calls SET disposition_code = ?, updated_at = ? WHERE id = ?`).run(code, new Date(Date.parse(top) + 60_000).toISOString(), call.id);
  db.close();
  const back = await job.run();
  t.equal(back.tables.calls.upserted, 1, 'exactly the change');
  t.equal(String((await ctx.store.all(`SELECT disposition_code FROM calls WHERE id = $id`, { id: call.id }))[0].disposition_code), code);
  const [dup] = await ctx.store.all(`SELECT count(*) - count(DISTINCT id) AS d, count(*) AS n FROM calls`);
  t.equal(Number(dup.d), 0, 'no duplicate');
  t.equal(Number(dup.n), sourceRows(ctx.sourceFile, 'calls').length, 'nothing lost');
});

t.test('the abandon-rate monitor records snapshots; breaches reach the report', async (t) => {
  const from = FIXTURE_NOW.getTime() - 43_200 * 60_000;
  const calls = sourceRows(ctx.sourceFile, 'calls');
  const dialsOf = (id: number) => calls.filter((c) => c.campaign_id === id && c.direction === 'outbound' && c.status !== 'blocked'
    && Date.parse(c.started_at) >= from && Date.parse(c.started_at) < FIXTURE_NOW.getTime());
  const answeredOf = (id: number) => dialsOf(id).filter((c) => c.answered_at !== null);
  const campaigns = sourceRows(ctx.sourceFile, 'campaigns');
  const dialled = campaigns.filter((c) => dialsOf(c.id).length > 0);
  // The campaign with the most abandoned calls in the window, paused (as a campaign that
  // breached usually is) and under a limit it cannot meet.
  const campaign = dialled.map((c) => ({ c, n: answeredOf(c.id).filter((x) => x.status === 'abandoned').length })).sort((a, b) => b.n - a.n)[0].c;
  await ctx.store.exec(`UPDATE campaigns SET abandon_limit_pct = 0, status = 'paused' WHERE id = $id`, { id: campaign.id });
  t.ok(dialled.some((c) => c.status !== 'active'), 'campaigns of other statuses have dials too');
  const answered = answeredOf(campaign.id);
  const abandoned = answered.filter((c) => c.status === 'abandoned').length;
  t.ok(abandoned > 0, 'the campaign has abandoned calls');
  const breach = {
    snapshot_at: FIXTURE_NOW.toISOString().replace('T', ' ').slice(0, 19), attempts_total: answered.length, attempts_abandoned: abandoned,
    abandon_rate_pct: Math.round((abandoned / answered.length) * 10_000) / 100, limit_pct: 0,
  };
  const before = (await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${campaign.id}`, 'admin@test')).body.data;
  t.equal(before.current.breached, true);
  t.strictSame(before.breaches, [breach], 'breached before any snapshot: the current breach is listed');

  const monitor = new AbandonMonitor(ctx.store, ctx.meta, 43_200, () => FIXTURE_NOW);
  const r = await monitor.run();
  t.equal(r.campaigns, dialled.length, 'a snapshot per campaign with dials in the window, whatever its status');
  const report = (await ctx.get(`/api/telesales/reports/abandon-rate?campaign_id=${campaign.id}`, 'admin@test')).body.data;
  t.equal(report.current.campaign_status, 'paused');
  t.strictSame(report.breaches, [breach], "the paused campaign's breach is recorded, once");
  const runs = await ctx.meta.selectFrom('job_runs').selectAll().where('job', '=', 'monitor').execute();
  t.equal(runs.length, 1);
  t.equal(runs[0].status, 'ok');
});

t.test('retention removes old runs and snapshots, keeping the newest breaches', async (t) => {
  // Job runs are stamped by the wall clock.
  const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
  await ctx.meta.insertInto('job_runs').values({ job: 'sync', started_at: old, ended_at: old, status: 'ok', stats: null, error: null, pid: 1 }).execute();
  await ctx.store.exec(`INSERT INTO abandon_snapshots VALUES (999, 1, TIMESTAMP '2026-09-01 00:00:00', 10, 0, 3, false), (999, 1, TIMESTAMP '2026-09-01 00:01:00', 10, 9, 3, true)`);
  const r = await new RetentionJob(ctx.store, ctx.meta, 30).run();
  t.equal(r.job_runs, 1);
  t.equal(r.snapshots, 1, 'the old ordinary snapshot');
  t.equal((await ctx.store.all(`SELECT * FROM abandon_snapshots WHERE campaign_id = 999`)).length, 1, 'the breach stays');
});
