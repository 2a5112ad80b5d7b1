import type { MetaDb } from '../src/meta/db.ts';
import type { Store } from '../src/store/duckdb.ts';
import { recordRun } from './record.ts';

/**
 * Keeps the job history bounded: job runs and abandon-rate snapshots older than
 * `days` go. Breach snapshots are kept as long as the report can show them (the newest
 * 100 per campaign), whatever their age.
 */
export class RetentionJob {
  constructor(private readonly store: Store, private readonly meta: MetaDb, private readonly days = 30, private readonly now: () => Date = () => new Date()) {}

  run(): Promise<{ job_runs: number; snapshots: number; refresh_tokens: number }> {
    return recordRun(this.meta, 'retention', async () => {
      const cutoff = new Date(this.now().getTime() - this.days * 86_400_000);
      const runs = await this.meta.deleteFrom('job_runs').where('started_at', '<', cutoff.toISOString()).where('status', '!=', 'running').executeTakeFirst();
      // Refresh tokens past their expiry can never be used again.
      const tokens = await this.meta.deleteFrom('refresh_tokens').where('expires_at', '<', this.now().toISOString()).executeTakeFirst();
      const deleted = await this.store.withConnection(async (conn) => (await conn.runAndReadAll(`
          DELETE FROM abandon_snapshots s
          WHERE s.snapshot_at < $cutoff::TIMESTAMP
            AND NOT (s.breached AND s.snapshot_at >= coalesce((
              SELECT min(snapshot_at) FROM (SELECT snapshot_at FROM abandon_snapshots b WHERE b.campaign_id = s.campaign_id AND b.breached ORDER BY snapshot_at DESC LIMIT 100)
            ), TIMESTAMP '9999-01-01'))
          RETURNING 1`, { cutoff: cutoff.toISOString().replace('T', ' ').replace('Z', '') })).getRows().length);
      return { job_runs: Number(runs.numDeletedRows), snapshots: deleted, refresh_tokens: Number(tokens.numDeletedRows) };
    });
  }
}
