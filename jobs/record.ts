import type { MetaDb } from '../src/meta/db.ts';
import { processAlive } from '../src/meta/process-alive.ts';

/**
 * Runs `fn` as a recorded job run: a job_runs row from start to end, with stats or the
 * error. `fn` gets the run's name (`sync run #12`), which marks what the run loads.
 */
export async function recordRun<T>(meta: MetaDb, job: string, fn: (run: string) => Promise<T>): Promise<T> {
  const run = await meta.insertInto('job_runs')
    .values({ job, started_at: new Date().toISOString(), status: 'running', pid: process.pid, stats: null, error: null, ended_at: null })
    .executeTakeFirstOrThrow();
  const id = Number(run.insertId);
  try {
    const result = await fn(`${job} run #${id}`);
    await meta.updateTable('job_runs').set({ status: 'ok', ended_at: new Date().toISOString(), stats: JSON.stringify(result) }).where('id', '=', id).execute();
    return result;
  } catch (err) {
    await meta.updateTable('job_runs').set({ status: 'failed', ended_at: new Date().toISOString(), error: (err as Error).message }).where('id', '=', id).execute();
    throw err;
  }
}

/** Runs left "running" by a process that died (kill -9 mid-sync) are marked interrupted. */
export async function markInterruptedRuns(meta: MetaDb): Promise<void> {
  const stale = await meta.selectFrom('job_runs').select(['id', 'pid']).where('status', '=', 'running').execute();
  for (const r of stale) {
    if (r.pid !== process.pid && !processAlive(r.pid)) await meta.updateTable('job_runs').set({ status: 'interrupted', ended_at: new Date().toISOString(), error: 'the process ended during the run' }).where('id', '=', r.id).execute();
  }
}
