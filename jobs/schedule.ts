import cron, { type ScheduledTask } from 'node-cron';
import type { SyncJob } from './sync.ts';

export interface ScheduleLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The schedule table: every job the server runs, on node-cron, none overlapping itself. */
export function startSchedule(jobs: { sync: SyncJob; syncCron: string }, log: ScheduleLogger): ScheduledTask[] {
  const sync = cron.schedule(jobs.syncCron, async () => {
    if (jobs.sync.busy) return;
    try {
      const r = await jobs.sync.run();
      if (r.upserted > 0 || r.rejected > 0) log.info({ job: 'sync', upserted: r.upserted, rejected: r.rejected, ms: r.ms }, 'sync done');
    } catch (err) {
      log.error({ job: 'sync', err }, 'sync failed');
    }
  }, { name: 'sync', noOverlap: true });
  return [sync];
}
