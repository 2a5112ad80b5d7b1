import { BIGINT, type DuckDBConnection } from '@duckdb/node-api';
import { SOURCE_TABLES, type SourceTable } from '../source/contract.ts';
import type { SourceConnection } from '../source/connect.ts';
import { lowerBoundFor, readBatch, timeMs, type Keyset, type RawRow } from '../source/reader.ts';
import type { Store } from '../store/duckdb.ts';
import { loadStatements } from './load-sql.ts';
import { createStage, fillStage } from './stage.ts';

export interface TableStats {
  read: number;
  upserted: number;
  rejected: number;
}

export interface SyncResult {
  tables: Record<string, TableStats>;
  read: number;
  upserted: number;
  rejected: number;
  batches: number;
  ms: number;
}

export interface SyncOptions {
  batchSize?: number;
  /** Called after each committed batch; the CLI prints progress, tests kill here. */
  onBatch?: (table: string, stats: TableStats) => void;
}

interface Watermark {
  ms: number | null;
  id: number;
}

/**
 * Pulls every contract table once, incrementally: each batch is staged with the
 * appender, checked, upserted by primary key and its watermark advanced in one DuckDB
 * transaction, so a crash at any point loses nothing and duplicates nothing. The next
 * batch is read from the source while DuckDB commits the current one.
 */
export async function syncOnce(store: Store, source: SourceConnection, opts: SyncOptions = {}): Promise<SyncResult> {
  const started = Date.now();
  const result: SyncResult = { tables: {}, read: 0, upserted: 0, rejected: 0, batches: 0, ms: 0 };
  const conn = store.writeConnection;
  for (const table of SOURCE_TABLES) {
    const stats = await syncTable(store, conn, source, table, opts, () => result.batches++);
    result.tables[table.name] = stats;
    result.read += stats.read;
    result.upserted += stats.upserted;
    result.rejected += stats.rejected;
  }
  result.ms = Date.now() - started;
  return result;
}

async function syncTable(
  store: Store, conn: DuckDBConnection, source: SourceConnection, table: SourceTable, opts: SyncOptions, countBatch: () => void,
): Promise<TableStats> {
  const limit = opts.batchSize ?? 50_000;
  const stats: TableStats = { read: 0, upserted: 0, rejected: 0 };
  const [state] = await store.writeAll(`SELECT cursor_ms, cursor_id FROM sync_state WHERE table_name = $t`, { t: table.name });
  const start: Watermark = state ? { ms: state.cursor_ms as number | null, id: state.cursor_id as number } : { ms: null, id: 0 };
  let mark: Watermark = { ...start };
  await createStage(conn, table);
  const statements = loadStatements(table);

  const read = (after: Keyset | null) =>
    readBatch(source, table, {
      after,
      afterId: mark.id,
      lowerBound: start.ms === null ? null : lowerBoundFor(source.dialect, start.ms),
      limit,
    });

  const idIx = table.columns.findIndex((c) => c.name === 'id');
  const updIx = table.columns.findIndex((c) => c.name === 'updated_at');
  let pending: Promise<RawRow[]> | null = read(null);
  while (pending) {
    const rows: RawRow[] = await pending;
    if (rows.length === 0) break;
    const batchRead = rows.length;
    const last = rows[rows.length - 1];
    // The inclusive lower bound re-reads the watermark's own second: drop what was loaded.
    const fresh = table.cursor === 'id' ? rows : rows.filter((r: RawRow) => isAfter(r[updIx], r[idIx], start));
    stats.read += fresh.length;
    if (table.cursor === 'id') mark = { ms: null, id: Number(last[idIx]) };
    else for (const r of fresh) mark = later(mark, r[updIx], r[idIx]);
    const batchMark = { ...mark };
    await fillStage(conn, table, fresh, source.dialect === 'sqlite');
    const committing = commitBatch(conn, table, statements, batchMark);
    // Read ahead while DuckDB works; the source read is JS-bound, the commit is not.
    pending = batchRead < limit ? null : read({ updatedAt: last[updIx], id: last[idIx] });
    const { upserted, rejected } = await committing;
    stats.upserted += upserted;
    stats.rejected += rejected;
    countBatch();
    opts.onBatch?.(table.name, stats);
  }
  return stats;
}

function isAfter(updatedAt: unknown, rowId: unknown, mark: Watermark): boolean {
  if (mark.ms === null) return true;
  const ms = timeMs(updatedAt);
  if (Number.isNaN(ms)) return true; // unreadable: let validation quarantine it
  return ms > mark.ms || (ms === mark.ms && Number(rowId) > mark.id);
}

function later(mark: Watermark, updatedAt: unknown, rowId: unknown): Watermark {
  const ms = timeMs(updatedAt);
  const id = Number(rowId);
  if (Number.isNaN(ms) || !Number.isFinite(id)) return mark;
  if (mark.ms === null || ms > mark.ms || (ms === mark.ms && id > mark.id)) return { ms, id };
  return mark;
}

async function commitBatch(
  conn: DuckDBConnection, table: SourceTable, s: ReturnType<typeof loadStatements>, mark: Watermark,
): Promise<{ upserted: number; rejected: number }> {
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run(s.check);
    const rejected = (await conn.run(s.reject)).rowsChanged;
    const upserted = (await conn.run(s.upsert)).rowsChanged;
    if (s.after && upserted > 0) await conn.run(s.after);
    await conn.run(
      `INSERT INTO sync_state (table_name, cursor_ms, cursor_id, rows_loaded, synced_at) VALUES ($t, $ms, $id, $n, now()::TIMESTAMP)
       ON CONFLICT (table_name) DO UPDATE SET cursor_ms = excluded.cursor_ms, cursor_id = excluded.cursor_id,
         rows_loaded = sync_state.rows_loaded + excluded.rows_loaded, synced_at = excluded.synced_at`,
      { t: table.name, ms: mark.ms === null ? null : BigInt(mark.ms), id: BigInt(mark.id), n: BigInt(upserted) },
      { ms: BIGINT },
    );
    if (upserted > 0) await conn.run(`UPDATE store_meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'`);
    await conn.run('COMMIT');
    return { upserted, rejected };
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
