import type { DuckDBConnection } from '@duckdb/node-api';
import { SOURCE_TABLES, type SourceTable } from '../source/contract.ts';
import type { SourceConnection } from '../source/connect.ts';
import { lowerBoundFor, readBatch, timeMs, type Keyset, type SourceRecord } from '../source/reader.ts';
import type { Store } from '../store/duckdb.ts';
import { ID_RANGE, loadStatements, type LoadStatements } from './load-sql.ts';
import { ROLLUPS_VERSION, rebuildRollups } from './rollups.ts';
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
  await ensureRollups(store, conn);
  // A first load rebuilds the roll-ups once at the end instead of batch by batch; until
  // then they are marked pending, so a crash in between rebuilds them on the next run.
  const [{ n: storedCalls }] = await store.writeAll(`SELECT count(*)::INTEGER AS n FROM (SELECT 1 FROM calls LIMIT 1)`);
  const deferRollups = storedCalls === 0;
  for (const table of SOURCE_TABLES) {
    const stats = await syncTable(store, conn, source, table, { ...opts, deferRollups }, () => result.batches++);
    result.tables[table.name] = stats;
    result.read += stats.read;
    result.upserted += stats.upserted;
    result.rejected += stats.rejected;
  }
  if (deferRollups) await ensureRollups(store, conn);
  await markDataAsOf(store, started);
  result.ms = Date.now() - started;
  return result;
}

/** Every source change committed before `started` (a finished sync's start) is in the store: X-Data-As-Of. */
export async function markDataAsOf(store: Store, started: number): Promise<void> {
  await store.exec(`INSERT OR REPLACE INTO store_meta VALUES ('data_as_of', $at)`, { at: new Date(started).toISOString() });
}

/** Builds the roll-ups from the stored calls when they predate the current definition. */
async function ensureRollups(store: Store, conn: DuckDBConnection): Promise<void> {
  const [row] = await store.writeAll(`SELECT value FROM store_meta WHERE key = 'rollups_version'`, {});
  if (row?.value === ROLLUPS_VERSION) return;
  const script = ['BEGIN TRANSACTION', ...rebuildRollups(), BUMP_VERSION, 'COMMIT'].join(';\n');
  try {
    await conn.run(script);
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const BUMP_VERSION = `UPDATE store_meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'`;

async function syncTable(
  store: Store, conn: DuckDBConnection, source: SourceConnection, table: SourceTable, opts: SyncOptions & { deferRollups: boolean },
  countBatch: () => void,
): Promise<TableStats> {
  // Above DuckDB's row group (122,880 rows) a commit writes row groups straight to the file
  // instead of through the WAL, which took a third of the load time at 50,000.
  const limit = opts.batchSize ?? 250_000;
  const stats: TableStats = { read: 0, upserted: 0, rejected: 0 };
  const [state] = await store.writeAll(`SELECT cursor_ms, cursor_id FROM sync_state WHERE table_name = $t`, { t: table.name });
  const start: Watermark = state ? { ms: state.cursor_ms as number | null, id: state.cursor_id as number } : { ms: null, id: 0 };
  let mark: Watermark = { ...start };
  await createStage(conn, table);
  const statements = loadStatements(table, { deferRollups: opts.deferRollups });

  const read = (after: Keyset | null) =>
    readBatch(source, table, {
      after,
      afterId: mark.id,
      lowerBound: start.ms === null ? null : lowerBoundFor(source.dialect, start.ms),
      limit,
    });

  let pending: Promise<SourceRecord[]> | null = read(null);
  while (pending) {
    const rows: SourceRecord[] = await pending;
    if (rows.length === 0) break;
    const batchRead = rows.length;
    const last = rows[rows.length - 1];
    // The inclusive lower bound re-reads the watermark's own second: drop what was loaded.
    const fresh = table.cursor === 'id' ? rows : rows.filter((r) => isAfter(r.updatedAt, r.id, start));
    stats.read += fresh.length;
    if (table.cursor === 'id') mark = { ms: null, id: Number(last.id) };
    else for (const r of fresh) mark = later(mark, r.updatedAt, r.id);
    const batchMark = { ...mark };
    if (fresh.length === 0) {
      // Only re-reads of the watermark's second: nothing to load, the watermark stays.
      pending = batchRead < limit ? null : read({ updatedAt: last.updatedAt, id: last.id });
      continue;
    }
    await fillStage(conn, table, fresh);
    const committing = commitBatch(conn, table, statements, batchMark, idRange(fresh));
    // Read ahead while DuckDB works; the source read is JS-bound, the commit is not.
    pending = batchRead < limit ? null : read({ updatedAt: last.updatedAt, id: last.id });
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

/** `id BETWEEN lo AND hi` over a batch's readable ids, as literals DuckDB can prune with. */
function idRange(rows: readonly SourceRecord[]): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const id = Number(r.id);
    // An id JS cannot hold exactly (or cannot read) gives up the pruning, never a row.
    if (!Number.isSafeInteger(id)) return 'true';
    if (id < lo) lo = id;
    if (id > hi) hi = id;
  }
  return lo <= hi ? `id BETWEEN ${lo} AND ${hi}` : 'true';
}

async function commitBatch(
  conn: DuckDBConnection, table: SourceTable, s: LoadStatements, mark: Watermark, range: string,
): Promise<{ upserted: number; rejected: number }> {
  const kept = `(SELECT count(*) FROM checked_${table.name} WHERE _reason IS NULL)`;
  const ms = mark.ms === null ? 'NULL' : String(Math.trunc(mark.ms));
  // The watermark values are integers, written as literals.
  return runLoad(conn, table, s, range, [
    `INSERT INTO sync_state (table_name, cursor_ms, cursor_id, rows_loaded, synced_at)
     VALUES ('${table.name}', ${ms}, ${Math.trunc(mark.id)}, ${kept}, now()::TIMESTAMP)
     ON CONFLICT (table_name) DO UPDATE SET cursor_ms = excluded.cursor_ms, cursor_id = excluded.cursor_id,
       rows_loaded = sync_state.rows_loaded + excluded.rows_loaded, synced_at = excluded.synced_at`,
  ]);
}

/**
 * Checks the staged rows, quarantines the bad ones, upserts the rest with everything
 * that depends on them, runs `extra` (a watermark, an import record) and bumps the data
 * version, as one transaction sent as one multi-statement call: DuckDB runs it natively
 * without a round trip to the event loop between statements, so the next source read
 * overlaps all of it.
 */
export async function runLoad(
  conn: DuckDBConnection, table: SourceTable, s: LoadStatements, range: string, extra: readonly string[],
): Promise<{ upserted: number; rejected: number }> {
  const checked = `checked_${table.name}`;
  const withRange = (sql: string) => sql.replaceAll(ID_RANGE, range);
  const kept = `(SELECT count(*) FROM ${checked} WHERE _reason IS NULL)`;
  const script = [
    'BEGIN TRANSACTION',
    s.check,
    s.reject,
    ...s.before.map(withRange),
    ...s.upsert.map(withRange),
    ...s.after,
    ...extra,
    `${BUMP_VERSION} AND ${kept} > 0`,
    'COMMIT',
  ].join(';\n');
  try {
    await conn.run(script);
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  const reader = await conn.runAndReadAll(
    `SELECT count(*) FILTER (WHERE _reason IS NULL)::INTEGER, count(*) FILTER (WHERE _reason IS NOT NULL)::INTEGER FROM ${checked}`,
  );
  const [upserted, rejected] = reader.getRows()[0] as [number, number];
  return { upserted, rejected };
}
