import { SOURCE_TABLES } from '../source/contract.ts';
import type { Store } from './duckdb.ts';

/** A quarantined source row: what it was, why it was refused, and where it came from. */
export interface RejectRow {
  table: string;
  source_id: string | null;
  reason: string;
  /** The row as read, column by column. */
  raw: unknown;
  first_seen: string;
  last_seen: string;
  seen_count: number;
  /** The sync run or CDR file of its latest sighting (null for rows quarantined before that was kept). */
  loaded_by: string | null;
}

export const REJECT_TABLES: readonly string[] = SOURCE_TABLES.map((t) => t.name);

/** The problems of a listing's filters, by field (empty when none). */
export function rejectFilterErrors(table: unknown): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  if (table !== undefined && !REJECT_TABLES.includes(table as string)) errors.set('table', [`The table must be one of: ${REJECT_TABLES.join(', ')}.`]);
  return errors;
}

/** Quarantined rows, the latest sighting first, and how many there are in all. */
export async function listRejects(store: Store, opts: { table?: string | null; limit: number; offset?: number }): Promise<{ total: number; rows: RejectRow[] }> {
  const params = { table: opts.table ?? null, limit: opts.limit, offset: opts.offset ?? 0 };
  const filter = `WHERE $table IS NULL OR table_name = $table`;
  const [{ n }] = await store.all(`SELECT count(*)::INTEGER AS n FROM rejects ${filter}`, { table: params.table }, { table: 'varchar' });
  const rows = await store.all(
    `SELECT table_name, source_id, reason, raw::VARCHAR AS raw, strftime(first_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_seen,
       strftime(last_seen, '%Y-%m-%dT%H:%M:%S.%gZ') AS last_seen, seen_count, loaded_by
     FROM rejects ${filter} ORDER BY last_seen DESC, table_name, source_id LIMIT $limit OFFSET $offset`,
    params, { table: 'varchar', limit: 'bigint', offset: 'bigint' },
  );
  return {
    total: Number(n),
    rows: rows.map((r) => ({
      table: String(r.table_name), source_id: r.source_id === null ? null : String(r.source_id), reason: String(r.reason),
      raw: JSON.parse(String(r.raw)) as unknown, first_seen: String(r.first_seen), last_seen: String(r.last_seen),
      seen_count: Number(r.seen_count), loaded_by: r.loaded_by === null ? null : String(r.loaded_by),
    })),
  };
}
