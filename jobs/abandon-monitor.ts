import type { MetaDb } from '../src/meta/db.ts';
import type { Store } from '../src/store/duckdb.ts';
import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';

/**
 * The abandon-rate monitor: a snapshot per campaign with dials in the last `windowMinutes`
 * (the report's default, TCPA's 30 days), whatever its status, flagged as a breach when
 * the rate is over the campaign's limit: a campaign that breached is usually paused
 * afterwards, and its record must stay whole. The abandon-rate report lists the breaches.
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
    const rows = await this.store.withConnection(async (conn) => (await conn.runAndReadAll(`
        INSERT OR REPLACE INTO abandon_snapshots
        SELECT c.id, c.account_id, $to::TIMESTAMP, k.answered, k.abandoned, c.abandon_limit_pct, k.abandoned * 100 > c.abandon_limit_pct * k.answered
        FROM (
          SELECT campaign_id, count(*) FILTER (WHERE is_answered) AS answered, count(*) FILTER (WHERE is_answered AND status = 'abandoned') AS abandoned
          FROM calls
          WHERE is_dial AND campaign_id IS NOT NULL AND started_at >= $from::TIMESTAMP AND started_at < $to::TIMESTAMP
          GROUP BY campaign_id
        ) k
        JOIN campaigns c ON c.id = k.campaign_id
        RETURNING breached`, { from, to })).getRowObjectsJS());
    return { campaigns: rows.length, breaches: rows.filter((r) => r.breached === true).length };
  }
}
