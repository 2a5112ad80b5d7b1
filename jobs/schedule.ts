import cron, { type ScheduledTask } from 'node-cron';
import { withRetry, type RetryPolicy } from './retry.ts';

export interface ScheduleLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** One row of the schedule table. */
export interface ScheduledJob {
  name: string;
  cron: string;
  /** IANA zone the cron expression is read in (UTC unless said). */
  timezone?: string;
  run: () => Promise<unknown>;
  /** True while a run (or its retries) is in progress: a tick then is skipped. */
  busy: () => boolean;
  /** Retries after a failed run, with exponential backoff and jitter. */
  retry?: RetryPolicy;
  /** The figures of a finished run worth a log line, or null for a quiet one. */
  summary?: (result: unknown) => object | null;
}

/**
 * The schedule table: every job the server runs, on node-cron. No job overlaps itself
 * (a tick while it runs, or while it waits to retry, is skipped); a failed run is retried
 * with backoff, and a job that keeps failing leaves the store as its last good run left it.
 */
export function startSchedule(jobs: readonly ScheduledJob[], log: ScheduleLogger): { tasks: ScheduledTask[]; stop: () => void } {
  let stopped = false;
  const retrying = new Set<string>();
  const tasks = jobs.map((job) => cron.schedule(job.cron, async () => {
    // Skipped here rather than with node-cron's noOverlap, which logs a warning per tick.
    if (stopped || job.busy() || retrying.has(job.name)) return;
    retrying.add(job.name);
    try {
      const result = await withRetry(() => job.run(), job.retry ?? { retries: 0, baseMs: 0, maxMs: 0 }, {
        stop: () => stopped,
        onRetry: (attempt, waitMs, err) => log.warn({ job: job.name, attempt, waitMs, err }, `${job.name} failed; retrying`),
      });
      const line = job.summary?.(result);
      if (line) log.info({ job: job.name, ...line }, `${job.name} done`);
    } catch (err) {
      log.error({ job: job.name, err }, `${job.name} failed`);
    } finally {
      retrying.delete(job.name);
    }
  }, { name: job.name, timezone: job.timezone ?? 'UTC' }));
  return { tasks, stop: () => { stopped = true; } };
}
