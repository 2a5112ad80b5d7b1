import cron, { type ScheduledTask } from 'node-cron';
import type { BillingJob } from './billing.ts';
import type { SyncJob } from './sync.ts';

export interface ScheduleLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The schedule table: every job the server runs, on node-cron, none overlapping itself. */
export function startSchedule(jobs: { sync: SyncJob; syncCron: string; billing?: { job: BillingJob; cron: string; zone: string } }, log: ScheduleLogger): ScheduledTask[] {
  const sync = cron.schedule(jobs.syncCron, async () => {
    if (jobs.sync.busy) return;
    try {
      const r = await jobs.sync.run();
      if (r.upserted > 0 || r.rejected > 0) log.info({ job: 'sync', upserted: r.upserted, rejected: r.rejected, ms: r.ms }, 'sync done');
    } catch (err) {
      log.error({ job: 'sync', err }, 'sync failed');
    }
  }, { name: 'sync', noOverlap: true });
  const tasks = [sync];
  const billing = jobs.billing;
  if (billing) {
    tasks.push(cron.schedule(billing.cron, async () => {
      if (billing.job.busy) return;
      try {
        const r = await billing.job.run();
        log.info({ job: 'billing', month: r.month, accounts: r.accounts, mismatched: r.mismatched, files: r.files }, 'billing files written');
      } catch (err) {
        log.error({ job: 'billing', err }, 'billing files failed');
      }
    }, { name: 'billing', noOverlap: true, timezone: billing.zone }));
  }
  return tasks;
}
