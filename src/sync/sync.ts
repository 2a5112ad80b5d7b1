import type { DuckDBConnection } from '@duckdb/node-api';
import { SOURCE_TABLES, sourceTable, type SourceTable } from '../source/contract.ts';
import type { SourceConnection } from '../source/connect.ts';
import { hasNewRows, lowerBoundFor, readBlock, type Keyset, type SourceBlock } from '../source/reader.ts';
import type { Store } from '../store/duckdb.ts';
import { loadBatch, type LoadCounts } from './load.ts';
import { checkedName, loadStatements, quarantineForeignLeads, watermarkSql, type LoadStatements } from './load-sql.ts';
import { ROLLUPS_VERSION, rebuildRollups } from './rollups.ts';
import { BUMP_DATA_VERSION, markDataAsOf } from '../store/data-as-of.ts';
import { createStage, fillStageText, stageName } from './stage.ts';

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

/** A running sync's progress: rows read so far, and about how many the source holds (null when unknown). */
export interface SyncProgress {
  rows: number;
  total: number | null;
}

export interface SyncOptions {
  batchSize?: number;
  /** The sync run, stored with each row it quarantines (`rejects.loaded_by`). */
  loadedBy?: string;
  /** Called after each committed batch; the CLI prints progress, tests kill here. */
  onBatch?: (table: string, stats: TableStats) => void;
  /** A run given up (the sync watchdog, shutdown) loads no batch it reads afterwards. */
  signal?: AbortSignal;
}

/**
 * Pulls every contract table once, incrementally: each batch is staged with the
 * appender, checked, upserted by primary key and its watermark advanced in one DuckDB
 * transaction, so a crash at any point loses nothing and duplicates nothing. The next
 * batch is read from the source while DuckDB commits the current one.
 */
export async function syncOnce(store: Store, source: SourceConnection, opts: SyncOptions = {}): Promise<SyncResult> {
  return store.withWriteConnection((conn) => syncWith(store, conn, source, opts));
}

async function syncWith(store: Store, conn: DuckDBConnection, source: SourceConnection, opts: SyncOptions): Promise<SyncResult> {
  const started = Date.now();
  const result: SyncResult = { tables: {}, read: 0, upserted: 0, rejected: 0, batches: 0, ms: 0 };
  await ensureRollups(store, opts.loadedBy ?? null);
  // A first load rebuilds the roll-ups once at the end instead of batch by batch; until
  // then they are marked pending, so a crash in between rebuilds them on the next run.
  const [{ n: storedCalls }] = await store.writeAll(`SELECT count(*)::INTEGER AS n FROM (SELECT 1 FROM calls LIMIT 1)`);
  const deferRollups = storedCalls === 0;
  const batchSize = opts.batchSize ?? batchSizeFor(store, deferRollups);
  const loadTables = async () => {
    for (const table of SOURCE_TABLES) {
      const stats = await syncTable(store, conn, source, table, { ...opts, deferRollups, batchSize }, () => result.batches++);
      result.tables[table.name] = stats;
      result.read += stats.read;
      result.upserted += stats.upserted;
      result.rejected += stats.rejected;
    }
  };
  // A first load runs while nothing else does, at DuckDB limits of its own (budgetShares),
  // which keep DuckDB's memory beyond its limit inside the budget: the tables need no cache
  // of what was read, and the roll-ups' rebuild spills what does not fit.
  if (deferRollups) await store.withFirstLoadLimit('load', loadTables);
  else await loadTables();
  if (deferRollups) {
    const quarantined = await store.withFirstLoadLimit('rebuild', () => ensureRollups(store, opts.loadedBy ?? null));
    const calls = result.tables.calls;
    if (calls && quarantined > 0) {
      calls.upserted -= quarantined;
      calls.rejected += quarantined;
      result.upserted -= quarantined;
      result.rejected += quarantined;
    }
    // A first load leaves the roll-ups it built in the WAL; folded into the file now, the
    // automatic checkpoint does not land on a later minute's sync (12 s on 10M calls).
    await conn.run('CHECKPOINT');
  }
  await markDataAsOf(store, started);
  result.ms = Date.now() - started;
  return result;
}


/**
 * Builds the roll-ups from the stored calls when they predate the current definition (or a
 * first load left them pending), after quarantining the calls that name another account's
 * lead (quarantineForeignLeads); returns how many calls that quarantined.
 */
async function ensureRollups(store: Store, loadedBy: string | null): Promise<number> {
  const [row] = await store.writeAll(`SELECT value FROM store_meta WHERE key = 'rollups_version'`, {});
  if (row?.value === ROLLUPS_VERSION) return 0;
  const quarantine = quarantineForeignLeads(sourceTable('calls'), loadedBy);
  // The temporary table lives on the write connection that runs the transaction below.
  await store.exec(quarantine.find);
  const [{ n }] = await store.writeAll(`SELECT count(*)::INTEGER AS n FROM foreign_lead_calls`);
  await store.transaction([...quarantine.apply, ...rebuildRollups(), BUMP_DATA_VERSION, `DROP TABLE foreign_lead_calls`]);
  return Number(n);
}

/**
 * Source rows per batch. Above DuckDB's row group (122,880 rows) a commit writes row
 * groups straight to the file instead of through the WAL, which took a third of the load
 * time at 50,000. A first load reads the next batch while DuckDB commits the last, so two
 * batches are in memory at once: under a memory budget it takes just over a row group at
 * a time, which keeps it inside the budget; with none, the larger batches load faster.
 */
const BATCH = 250_000;
const FIRST_LOAD_BATCH = 125_000;

/** The rows per batch of a sync that sets none: smaller for a first load under a memory budget. */
export function batchSizeFor(store: Store, firstLoad: boolean): number {
  return firstLoad && store.firstLoadLimited ? FIRST_LOAD_BATCH : BATCH;
}

/** A last batch up to this size is first checked for new rows in JS (see hasNewRows). */
const RECHECK_ROWS = 100;

async function syncTable(
  store: Store, conn: DuckDBConnection, source: SourceConnection, table: SourceTable, opts: SyncOptions & { deferRollups: boolean; batchSize: number },
  countBatch: () => void,
): Promise<TableStats> {
  const limit = opts.batchSize;
  const stats: TableStats = { read: 0, upserted: 0, rejected: 0 };
  const [state] = await store.writeAll(`SELECT cursor_ms, cursor_id FROM sync_state WHERE table_name = $t`, { t: table.name });
  const since = state && state.cursor_ms !== null ? { ms: Number(state.cursor_ms), id: Number(state.cursor_id) } : null;
  let afterId = state ? Number(state.cursor_id) : 0;
  await createStage(conn, table);
  const statements = loadStatements(table, { deferRollups: opts.deferRollups, since, loadedFrom: 'source', loadedBy: opts.loadedBy });

  const readOpts = (after: Keyset | null) => ({ after, afterId, lowerBound: since === null ? null : lowerBoundFor(source.dialect, since.ms), limit });
  const read = (after: Keyset | null) => readBlock(source, table, readOpts(after));

  let pending: Promise<SourceBlock> | null = read(null);
  while (pending) {
    const block: SourceBlock = await pending;
    opts.signal?.throwIfAborted();
    if (block.rows === 0) break;
    if (since && !block.next && block.rows <= RECHECK_ROWS && !(await hasNewRows(source, table, readOpts(null), since))) break;
    await fillStageText(conn, table, block.text, block.rows);
    if (table.cursor === 'id') afterId = Number(block.next?.id ?? block.ids?.hi ?? afterId);
    const committing = commitBatch(store, conn, table, statements, afterId, block.ids ? `id BETWEEN ${block.ids.lo} AND ${block.ids.hi}` : 'true');
    // Read ahead while DuckDB works; the source read is JS-bound, the commit is not.
    pending = block.next ? read(block.next) : null;
    const loaded = await committing;
    // Only re-reads of the watermark's second (loaded by an earlier run): nothing was written.
    if (!loaded) continue;
    stats.read += loaded.read;
    stats.upserted += loaded.upserted;
    stats.rejected += loaded.rejected;
    countBatch();
    opts.onBatch?.(table.name, stats);
  }
  // A first load leaves a full batch in each; kept, they held memory and replacing them
  // cost the next run a third of a second.
  await conn.run(`DROP TABLE IF EXISTS ${stageName(table)}; DROP TABLE IF EXISTS ${checkedName(table)}`);
  return stats;
}

/**
 * Checks a staged batch and, unless every row was loaded by an earlier run, writes it with
 * the watermark in one transaction (loadBatch); null when nothing was new.
 */
async function commitBatch(
  store: Store, conn: DuckDBConnection, table: SourceTable, s: LoadStatements, afterId: number, range: string,
): Promise<LoadCounts | null> {
  // The id cursor is an integer, written as a literal; the time cursor comes from the checked rows.
  const mark = table.cursor === 'id' ? `SELECT NULL AS ms, ${Math.trunc(afterId)} AS id` : watermarkSql(table);
  return loadBatch(store, conn, table, s, {
    range, skipWhenEmpty: true,
    extra: (counts) => [
      `INSERT INTO sync_state (table_name, cursor_ms, cursor_id, rows_loaded, synced_at)
       SELECT '${table.name}', ms, id, ${counts.upserted}, now()::TIMESTAMP FROM (${mark})
       ON CONFLICT (table_name) DO UPDATE SET cursor_ms = excluded.cursor_ms, cursor_id = excluded.cursor_id,
         rows_loaded = sync_state.rows_loaded + excluded.rows_loaded, synced_at = excluded.synced_at`,
    ],
  });
}
