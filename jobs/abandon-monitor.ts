import type { MetaDb } from '../src/meta/db.ts';
import type { Store } from '../src/store/duckdb.ts';
import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';

/**
 * The abandon-rate monitor: a snapshot per active campaign of its abandon rate over the
 * last `windowMinutes` (the report's default, TCPA's 30 days), flagged as a breach when
 * the rate is over the campaign's limit. The abandon-rate report lists the breaches.
 * It writes on a connection of its own, so it never lands inside a sync's transaction.
 */
export class AbandonMonitor {
  private readonly flight = new SingleFlight<{ campaigns: number; breaches: number }>();

  constructor(private readonly store: Store, private readonly meta: MetaDb, private readonly windowMinutes = 43_200, private readonly now: () => Date = () => new Date()) {}

  get busy(): boolean {
    return this.flight.busy;
  }

  run(): Promise<{ campaigns: number; breaches: number }> {
    return this.flight.run(() => recordRun(this.meta, 'monitor', () => this.snapshot()));
  }

  private async snapshot(): Promise<{ campaigns: number; breaches: number }> {
    const at = this.now();
    const to = at.toISOString().replace('T', ' ').replace('Z', '');
    const from = new Date(at.getTime() - this.windowMinutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');
    const conn = await this.store.connect();
    try {
      const reader = await conn.runAndReadAll(`
        INSERT OR REPLACE INTO abandon_snapshots
        SELECT c.id, c.account_id, $to::TIMESTAMP,
          count(k.id) FILTER (WHERE k.is_answered),
          count(k.id) FILTER (WHERE k.is_answered AND k.status = 'abandoned'),
          c.abandon_limit_pct,
          count(k.id) FILTER (WHERE k.is_answered AND k.status = 'abandoned') * 100 > c.abandon_limit_pct * count(k.id) FILTER (WHERE k.is_answered)
        FROM campaigns c
        LEFT JOIN calls k ON k.campaign_id = c.id AND k.is_dial AND k.started_at >= $from::TIMESTAMP AND k.started_at < $to::TIMESTAMP
        WHERE c.status = 'active' AND c.deleted_at IS NULL
        GROUP BY c.id, c.account_id, c.abandon_limit_pct
        RETURNING breached`, { from, to });
      const rows = reader.getRowObjectsJS();
      return { campaigns: rows.length, breaches: rows.filter((r) => r.breached === true).length };
    } finally {
      conn.closeSync();
    }
  }
}
