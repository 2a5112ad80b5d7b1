import { sql } from 'kysely';
import type { SourceTable } from './contract.ts';
import type { SourceConnection } from './connect.ts';

/** A source row as values in the contract's column order. */
export type RawRow = unknown[];

/** Where a keyset read continues: after this (updated_at as the source returned it, id). */
export interface Keyset {
  readonly updatedAt: unknown;
  readonly id: unknown;
}

/**
 * One batch of a table in cursor order. Kysely builds the query, so SQLite and PostgreSQL
 * run the same one; on SQLite it executes in better-sqlite3's array mode, which reads
 * twice as fast as building an object per row. `after` continues within a run;
 * `lowerBound` starts a run at an `updated_at` (inclusive); `afterId` an append-only table.
 */
export async function readBatch(
  source: SourceConnection,
  table: SourceTable,
  opts: { after?: Keyset | null; lowerBound?: unknown; afterId?: number; limit: number },
): Promise<RawRow[]> {
  const names = table.columns.map((c) => c.name);
  let query = source.db.selectFrom(table.name).select(names);
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
    return source.sqlite.prepare(compiled.sql).raw(true).all(...(compiled.parameters as unknown[])) as RawRow[];
  }
  const rows = await query.execute();
  return rows.map((r) => names.map((n) => r[n]));
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
