import type { MetaDb } from '../src/meta/db.ts';
import { connectSource } from '../src/source/connect.ts';
import type { Store } from '../src/store/duckdb.ts';
import { syncOnce, type SyncOptions, type SyncResult } from '../src/sync/sync.ts';

/**
 * The source sync as a recorded job: one run at a time per process, each run written
 * to job_runs (start, end, rows read/upserted/rejected per table, error).
 */
export class SyncJob {
  private running: Promise<SyncResult> | null = null;

  constructor(private readonly store: Store, private readonly meta: MetaDb, private readonly sourceUrl: string, private readonly opts: SyncOptions = {}) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Runs one sync, or joins the one already running (never two at once). */
  run(): Promise<SyncResult> {
    if (!this.running) {
      this.running = this.execute().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async execute(): Promise<SyncResult> {
    const run = await this.meta.insertInto('job_runs')
      .values({ job: 'sync', started_at: new Date().toISOString(), status: 'running', pid: process.pid, stats: null, error: null, ended_at: null })
      .executeTakeFirstOrThrow();
    const id = Number(run.insertId);
    const source = connectSource(this.sourceUrl);
    try {
      const result = await syncOnce(this.store, source, this.opts);
      await this.meta.updateTable('job_runs').set({ status: 'ok', ended_at: new Date().toISOString(), stats: JSON.stringify(result) }).where('id', '=', id).execute();
      return result;
    } catch (err) {
      await this.meta.updateTable('job_runs').set({ status: 'failed', ended_at: new Date().toISOString(), error: (err as Error).message }).where('id', '=', id).execute();
      throw err;
    } finally {
      await source.close();
    }
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
