import type { DuckDBConnection } from '@duckdb/node-api';
import type { SourceTable } from '../source/contract.ts';
import type { Store } from '../store/duckdb.ts';
import { BUMP_DATA_VERSION } from '../store/data-as-of.ts';
import { checkedName, ID_RANGE, type LoadStatements } from './load-sql.ts';

/** What a checked batch holds: rows new to the store (kept or rejected), and how many of each. */
export interface LoadCounts {
  /** Rows the check kept or rejected (not those an earlier run loaded). */
  read: number;
  upserted: number;
  rejected: number;
}

export interface LoadBatchOptions {
  /** A literal `id BETWEEN lo AND hi` over the batch, which lets DuckDB skip other ids' row groups. */
  range?: string;
  /** Statements that commit with the batch (a watermark, an import record), given its counts. */
  extra?: (counts: LoadCounts) => string[];
  /** Write nothing when every row was loaded by an earlier run (an incremental re-read). */
  skipWhenEmpty?: boolean;
}

/**
 * The one way a batch enters the store, whichever path read it (the database sync, the
 * platform's HTTP API, a CDR file): the staged rows of `table` are checked (checkStage),
 * then the bad ones quarantined, the rest upserted with everything that depends on them,
 * `extra` run and the data version bumped, all in one transaction. Null when
 * `skipWhenEmpty` and nothing was new.
 *
 * ```ts
 * await createStage(conn, table);
 * await fillStage(conn, table, rows);
 * const counts = await loadBatch(store, conn, table, loadStatements(table, { loadedFrom: 'platform' }));
 * ```
 */
export async function loadBatch(store: Store, conn: DuckDBConnection, table: SourceTable, s: LoadStatements, opts: LoadBatchOptions & { skipWhenEmpty: true }): Promise<LoadCounts | null>;
export async function loadBatch(store: Store, conn: DuckDBConnection, table: SourceTable, s: LoadStatements, opts?: LoadBatchOptions): Promise<LoadCounts>;
export async function loadBatch(store: Store, conn: DuckDBConnection, table: SourceTable, s: LoadStatements, opts: LoadBatchOptions = {}): Promise<LoadCounts | null> {
  const counts = await checkStage(conn, table, s);
  if (opts.skipWhenEmpty && counts.read === 0) return null;
  const withRange = (sql: string) => sql.replaceAll(ID_RANGE, opts.range ?? 'true');
  await store.transaction([
    s.reject,
    ...s.before.map(withRange),
    ...s.upsert.map(withRange),
    ...s.after,
    ...(opts.extra?.(counts) ?? []),
    ...(counts.upserted > 0 ? [BUMP_DATA_VERSION] : []),
  ], conn);
  return counts;
}

/**
 * Runs the check pass over the staged rows into their checked table and counts them.
 * Outside the load's transaction: it only fills a temporary table, and a batch with
 * nothing new can then skip the write (and the roll-up refresh) altogether.
 */
async function checkStage(conn: DuckDBConnection, table: SourceTable, s: LoadStatements): Promise<LoadCounts> {
  const count = async () => {
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::INTEGER, count(*) FILTER (WHERE _reason IS NULL)::INTEGER, count(*) FILTER (WHERE _reason IS NOT NULL)::INTEGER,
         (count(id) - count(DISTINCT id))::INTEGER
       FROM ${checkedName(table)}`,
    );
    const [read, upserted, rejected, repeats] = reader.getRows()[0] as [number, number, number, number];
    return { read, upserted, rejected, repeats };
  };
  await conn.run(s.check);
  let counts = await count();
  // A batch that holds an id more than once is checked again, ranking its rows (see checkRepeats).
  if (counts.repeats > 0) {
    await conn.run(s.checkRepeats);
    counts = await count();
  }
  return { read: counts.read, upserted: counts.upserted, rejected: counts.rejected };
}
