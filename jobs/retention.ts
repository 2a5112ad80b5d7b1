import fs from 'node:fs';
import path from 'node:path';
import type { MetaDb } from '../src/meta/db.ts';
import type { Store } from '../src/store/duckdb.ts';
import { recordRun } from './record.ts';

/**
 * Keeps the job history bounded: job runs and abandon-rate snapshots older than
 * `days` go. Breach snapshots are kept as long as the report can show them (the newest
 * 100 per campaign), whatever their age.
 */
export class RetentionJob {
  constructor(
    private readonly store: Store, private readonly meta: MetaDb, private readonly days = 30, private readonly now: () => Date = () => new Date(),
    /** Delivered files, removed once no signed link to them can work any more. */
    private readonly deliveries?: { dir: string; keepSec: number },
  ) {}

  run(): Promise<{ job_runs: number; snapshots: number; refresh_tokens: number; deliveries: number; delivered_files: number }> {
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
      // The delivery log keeps what is finished as long as job runs; what may still be sent stays.
      const log = await this.meta.deleteFrom('deliveries').where('created_at', '<', cutoff.toISOString()).where('status', 'in', ['sent', 'failed', 'gone']).executeTakeFirst();
      return {
        job_runs: Number(runs.numDeletedRows), snapshots: deleted, refresh_tokens: Number(tokens.numDeletedRows),
        deliveries: Number(log.numDeletedRows), delivered_files: this.pruneFiles(),
      };
    });
  }

  /** Removes each occurrence's folder of delivered files older than the links' lifetime. */
  private pruneFiles(): number {
    if (!this.deliveries || !fs.existsSync(this.deliveries.dir)) return 0;
    const before = this.now().getTime() - this.deliveries.keepSec * 1000;
    let n = 0;
    for (const sub of fs.readdirSync(this.deliveries.dir)) {
      const subDir = path.join(this.deliveries.dir, sub);
      for (const occ of fs.readdirSync(subDir)) {
        const d = path.join(subDir, occ);
        if (fs.statSync(d).mtimeMs < before) {
          fs.rmSync(d, { recursive: true, force: true });
          n++;
        }
      }
      if (fs.readdirSync(subDir).length === 0) fs.rmdirSync(subDir);
    }
    return n;
  }
}
