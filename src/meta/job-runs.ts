import type { MetaDb } from './db.ts';

/** The scheduled jobs whose runs are recorded (jobs/). */
export const JOB_NAMES = ['sync', 'monitor', 'billing', 'cdr', 'retention'] as const;

/**
 * The problems of a job-run listing's filters, by field (empty when none): `job` one of
 * JOB_NAMES, `limit` an integer from 1 to 1000.
 */
export function runFilterErrors(job: unknown, limit: unknown): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  if (job !== undefined && !(JOB_NAMES as readonly unknown[]).includes(job)) errors.set('job', [`The job must be one of: ${JOB_NAMES.join(', ')}.`]);
  if (limit !== undefined && !validLimit(limit)) errors.set('limit', ['The limit must be an integer from 1 to 1000.']);
  return errors;
}

/** Whether a listing's `limit` (as given, text) is an integer from 1 to 1000. */
export function validLimit(limit: unknown): boolean {
  return typeof limit === 'string' && /^\d{1,4}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 1000;
}

export interface JobRun {
  id: number;
  job: string;
  status: string;
  started_at: string;
  ended_at: string | null;
  /** Milliseconds from start to end; null while running. */
  ms: number | null;
  stats: unknown;
  error: string | null;
}

/** The latest job runs, newest first, optionally of one job. */
export async function listRuns(meta: MetaDb, opts: { job?: string | null; limit?: number } = {}): Promise<JobRun[]> {
  let q = meta.selectFrom('job_runs').selectAll().orderBy('id', 'desc').limit(opts.limit ?? 50);
  if (opts.job) q = q.where('job', '=', opts.job);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id, job: r.job, status: r.status, started_at: r.started_at, ended_at: r.ended_at,
    ms: r.ended_at ? Date.parse(r.ended_at) - Date.parse(r.started_at) : null,
    stats: r.stats ? (JSON.parse(r.stats) as unknown) : null, error: r.error,
  }));
}
