import { DateTime } from 'luxon';
import type { MetaDb } from '../src/meta/db.ts';
import { writeBillingFiles, type BillingFiles } from '../src/export/billing-files.ts';
import type { ReportEngine } from '../src/reports/engine.ts';
import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';

/**
 * The monthly billing files as a recorded job: last month's reconciliation of every
 * account written to the exports directory (see writeBillingFiles), each run in job_runs.
 */
export class BillingJob {
  private readonly flight = new SingleFlight<BillingFiles>();

  constructor(
    private readonly engine: ReportEngine,
    private readonly meta: MetaDb,
    private readonly dir: string,
    /** The zone whose calendar says which month is "last month" when the job fires. */
    private readonly zone = 'UTC',
    private readonly now: () => Date = () => new Date(),
  ) {}

  get busy(): boolean {
    return this.flight.busy;
  }

  /** The month before the current one in the schedule's zone, as YYYY-MM. */
  lastMonth(): string {
    return DateTime.fromJSDate(this.now(), { zone: this.zone }).minus({ months: 1 }).toFormat('yyyy-MM');
  }

  run(month = this.lastMonth()): Promise<BillingFiles> {
    return this.flight.run(() => this.execute(month));
  }

  private execute(month: string): Promise<BillingFiles> {
    return recordRun(this.meta, 'billing', () => writeBillingFiles(this.engine, month, this.dir));
  }
}
