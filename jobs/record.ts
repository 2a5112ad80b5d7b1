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
  let result: T;
  try {
    result = await fn(`${job} run #${id}`);
  } catch (err) {
    // The run's own error is what is thrown (and logged), even when meta.db cannot take
    // it (a full disk): the recording's failure travels with it as `unrecorded`.
    await meta.updateTable('job_runs').set({ status: 'failed', ended_at: new Date().toISOString(), error: (err as Error).message }).where('id', '=', id).execute()
      .catch((recording: Error) => {
        if (err instanceof Error) Object.assign(err, { unrecorded: `the run could not be recorded: ${recording.message}` });
      });
    throw err;
  }
  // A run that did its work stays done even when its record cannot be written.
  await meta.updateTable('job_runs').set({ status: 'ok', ended_at: new Date().toISOString(), stats: JSON.stringify(result) }).where('id', '=', id).execute()
    .catch((recording: Error) => Object.assign(result as object, { unrecorded: `the run could not be recorded: ${recording.message}` }));
  return result;
}

/** Runs left "running" by a process that died (kill -9 mid-sync) are marked interrupted. */
export async function markInterruptedRuns(meta: MetaDb): Promise<void> {
  const stale = await meta.selectFrom('job_runs').select(['id', 'pid']).where('status', '=', 'running').execute();
  for (const r of stale) {
    if (r.pid !== process.pid && !processAlive(r.pid)) await meta.updateTable('job_runs').set({ status: 'interrupted', ended_at: new Date().toISOString(), error: 'the process ended during the run' }).where('id', '=', r.id).execute();
  }
}
