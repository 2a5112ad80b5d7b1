import type { MetaDb } from '../src/meta/db.ts';
import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';
import { connectSource } from '../src/source/connect.ts';
import { syncPlatform } from '../src/source/platform-api.ts';
import { parsePlatformUrl } from '../src/source/platform-url.ts';
import type { Store } from '../src/store/duckdb.ts';
import { syncOnce, type SyncOptions, type SyncResult } from '../src/sync/sync.ts';

/**
 * The source sync as a recorded job: one run at a time per process, each run written
 * to job_runs (start, end, rows read/upserted/rejected per table, error).
 */
export class SyncJob {
  private readonly flight = new SingleFlight<SyncResult>();

  constructor(private readonly store: Store, private readonly meta: MetaDb, private readonly sourceUrl: string, private readonly opts: SyncOptions = {}) {}

  get busy(): boolean {
    return this.flight.busy;
  }

  /** Runs one sync, or joins the one already running (never two at once). */
  run(): Promise<SyncResult> {
    return this.flight.run(() => this.execute());
  }

  private async execute(): Promise<SyncResult> {
    return recordRun(this.meta, 'sync', async (run) => {
      // A platform that exposes only its HTTP API instead of its database.
      if (this.sourceUrl.startsWith('platform+')) return syncPlatform(this.store, parsePlatformUrl(this.sourceUrl), { loadedBy: run });
      const source = connectSource(this.sourceUrl);
      try {
        return await syncOnce(this.store, source, { ...this.opts, loadedBy: run });
      } finally {
        await source.close();
      }
    });
  }
}

/** Runs left "running" by a process that died (kill -9 mid-sync) are marked interrupted. */
export async function markInterruptedRuns(meta: MetaDb): Promise<void> {
  const stale = await meta.selectFrom('job_runs').select(['id', 'pid']).where('status', '=', 'running').execute();
  for (const r of stale) {
    let alive = r.pid === process.pid;
    if (!alive) {
      try {
        process.kill(r.pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (!alive) await meta.updateTable('job_runs').set({ status: 'interrupted', ended_at: new Date().toISOString(), error: 'the process ended during the run' }).where('id', '=', r.id).execute();
  }
}
