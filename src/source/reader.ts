import { sql, type RawBuilder } from 'kysely';
import type { SourceTable } from './contract.ts';
import type { SourceConnection } from './connect.ts';

/**
 * A source row as read for staging: the contract's columns as one JSON array text, in
 * contract order, plus its cursor (`updated_at`, `id`) as the source's own values.
 */
export interface SourceRecord {
  readonly json: string;
  readonly updatedAt: unknown;
  readonly id: unknown;
}

/** Where a keyset read continues: after this (updated_at as the source returned it, id). */
export interface Keyset {
  readonly updatedAt: unknown;
  readonly id: unknown;
}

/**
 * The row as one JSON array, built by the source database itself. Materialising every
 * cell as a JS value and stringifying it again cost more than the rest of the sync; one
 * string per row halves the JS work and the appender copies a single value per row.
 */
function rowJson(source: SourceConnection, table: SourceTable): RawBuilder<string> {
  const cols = sql.join(table.columns.map((c) => sql.ref(c.name)));
  return source.dialect === 'sqlite' ? sql<string>`json_array(${cols})` : sql<string>`json_build_array(${cols})::text`;
}

/**
 * One batch of a table in cursor order. Kysely builds the query, so SQLite and PostgreSQL
 * run the same one; on SQLite it executes in better-sqlite3's array mode. `after`
 * continues within a run; `lowerBound` starts a run at an `updated_at` (inclusive);
 * `afterId` an append-only table.
 */
export async function readBatch(
  source: SourceConnection,
  table: SourceTable,
  opts: { after?: Keyset | null; lowerBound?: unknown; afterId?: number; limit: number },
): Promise<SourceRecord[]> {
  const cursorCol = table.cursor === 'id' ? sql<unknown>`NULL` : sql.ref('updated_at');
  let query = source.db.selectFrom(table.name).select([rowJson(source, table).as('j'), cursorCol.as('u'), 'id']);
  if (table.cursor === 'id') {
    query = query.where('id', '>', opts.afterId ?? 0).orderBy('id');
  } else {
    if (opts.after) query = query.where(sql<boolean>`(updated_at, id) > (${opts.after.updatedAt}, ${opts.after.id})`);
    else if (opts.lowerBound !== undefined && opts.lowerBound !== null) query = query.where('updated_at', '>=', opts.lowerBound);
    query = query.orderBy('updated_at').orderBy('id');
  }
  query = query.limit(opts.limit);
  if (source.sqlite) {
    const compiled = query.compile();
    const rows = source.sqlite.prepare(compiled.sql).raw(true).all(...(compiled.parameters as unknown[])) as [string, unknown, unknown][];
    return rows.map((r) => ({ json: r[0], updatedAt: r[1], id: r[2] }));
  }
  const rows = await query.execute();
  return rows.map((r) => ({ json: String(r.j), updatedAt: r.u, id: r.id }));
}

/** Epoch milliseconds of a source time (ISO text or a driver Date); NaN when unreadable. */
export function timeMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return Date.parse(v);
  return Number.NaN;
}

/**
 * The inclusive start of an incremental read for a watermark: the watermark's second, in
 * the source's own representation. Re-reading that second costs a few rows and covers
 * sources that write milliseconds only sometimes (`…03Z` sorts after `…03.250Z` as text).
 */
export function lowerBoundFor(dialect: SourceConnection['dialect'], cursorMs: number): unknown {
  const second = new Date(Math.floor(cursorMs / 1000) * 1000);
  return dialect === 'sqlite' ? second.toISOString().slice(0, 19) : second;
}
