import { sql, type RawBuilder } from 'kysely';
import type { SourceTable } from './contract.ts';
import type { SourceConnection } from './connect.ts';

/** A row to stage from elsewhere (the platform API): the contract's columns as one JSON array text, in contract order. */
export interface SourceRecord {
  readonly json: string;
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

/** A batch of a table as read for staging. */
export interface SourceBlock {
  /**
   * Each row's JSON array (see rowJson), joined by newlines: JSON escapes every newline
   * inside a value. SQLite hands it over as its UTF-8 bytes: a Buffer lives outside the JS
   * heap, and V8 collects it soon after it is dropped, where a block's string of tens of
   * megabytes waits for a major collection and the dead ones pile up in the heap.
   */
  readonly text: string | Buffer;
  readonly rows: number;
  /** The batch's lowest and highest id, for pruning the upsert; null when they are not safe integers. */
  readonly ids: { lo: number; hi: number } | null;
  /** Where the next batch continues, in the source's own values; null when this one reached the table's end. */
  readonly next: Keyset | null;
}

export interface ReadOptions {
  /** Continue within a run after this row. */
  after?: Keyset | null;
  /** Start a run at this `updated_at` (inclusive). */
  lowerBound?: unknown;
  /** An append-only table: continue after this id. */
  afterId?: number;
  limit: number;
}

/**
 * One batch of a table in cursor order, as one text the source database builds itself:
 * first the batch's last row, `limit` rows on through the cursor's index alone, then every
 * row up to it aggregated into a single value. Handing JS one value per row (three, with
 * the cursor) cost more than building the rows' JSON; one value per batch leaves the
 * source database's own work. Kysely builds both queries, so SQLite and PostgreSQL run the
 * same ones.
 */
export async function readBlock(source: SourceConnection, table: SourceTable, opts: ReadOptions): Promise<SourceBlock> {
  const byId = table.cursor === 'id';
  const rows = () => batchRows(source, table, opts);
  let edgeQuery = rows().select([(byId ? sql<unknown>`NULL` : sql.ref('updated_at')).as('u'), 'id']);
  edgeQuery = byId ? edgeQuery.orderBy('id') : edgeQuery.orderBy('updated_at').orderBy('id');
  const edge = await edgeQuery.limit(1).offset(Math.max(0, opts.limit - 1)).executeTakeFirst();
  let blockQuery = rows().select([
    aggregate(source, rowJson(source, table)).as('text'),
    sql<unknown>`count(*)`.as('n'),
    sql<unknown>`min(id)`.as('lo'),
    sql<unknown>`max(id)`.as('hi'),
  ]);
  if (edge) blockQuery = blockQuery.where(byId ? sql<boolean>`id <= ${edge.id}` : sql<boolean>`(updated_at, id) <= (${edge.u}, ${edge.id})`);
  const block = await blockQuery.executeTakeFirstOrThrow();
  const lo = Number(block.lo);
  const hi = Number(block.hi);
  return {
    text: block.text === null || block.text === undefined ? '' : Buffer.isBuffer(block.text) ? block.text : String(block.text),
    rows: Number(block.n),
    ids: Number.isSafeInteger(lo) && Number.isSafeInteger(hi) ? { lo, hi } : null,
    next: edge ? { updatedAt: edge.u, id: edge.id } : null,
  };
}

/** The rows a batch reads from, before its end is known. */
function batchRows(source: SourceConnection, table: SourceTable, opts: ReadOptions) {
  let q = source.db.selectFrom(table.name);
  if (table.cursor === 'id') q = q.where('id', '>', opts.afterId ?? 0);
  else if (opts.after) q = q.where(sql<boolean>`(updated_at, id) > (${opts.after.updatedAt}, ${opts.after.id})`);
  else if (opts.lowerBound !== undefined && opts.lowerBound !== null) q = q.where('updated_at', '>=', opts.lowerBound);
  return q;
}

/**
 * Whether a last batch (one without `next`) of an incremental run holds a row after the
 * watermark: most runs re-read only the watermark's own second, and answering that from
 * the rows' cursors spares the store a check of every table every minute. An unreadable
 * time or id counts as new, for the check to reject.
 */
export async function hasNewRows(source: SourceConnection, table: SourceTable, opts: ReadOptions, since: { ms: number; id: number }): Promise<boolean> {
  const cursors = await batchRows(source, table, opts).select(['updated_at', 'id']).execute();
  return cursors.some((c) => {
    const ms = timeMs(c.updated_at);
    const id = Number(c.id);
    return !(ms < since.ms || (ms === since.ms && id <= since.id));
  });
}

/** Epoch milliseconds of a source time (ISO text or a driver Date); NaN when unreadable. */
function timeMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') return Date.parse(v);
  return Number.NaN;
}

/** The rows' texts joined by newlines, in whatever order the database aggregates them: the upsert is by id. */
function aggregate(source: SourceConnection, text: RawBuilder<string>): RawBuilder<string | Buffer | null> {
  return source.dialect === 'sqlite' ? sql<Buffer | null>`CAST(group_concat(${text}, char(10)) AS BLOB)` : sql<string | null>`string_agg(${text}, E'\n')`;
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

/**
 * About how many rows the contract's tables hold, for a first load's progress: exact
 * counts on SQLite, the planner's estimates on PostgreSQL (a count of a large table there
 * reads it all).
 */
export async function estimateSourceRows(source: SourceConnection, tables: readonly SourceTable[]): Promise<number> {
  if (source.dialect === 'postgres') {
    const names = tables.map((t) => t.name);
    const r = await sql<{ n: string | number | null }>`SELECT sum(greatest(reltuples, 0))::bigint AS n FROM pg_class
      WHERE relkind IN ('r', 'p', 'v', 'm') AND relname IN (${sql.join(names)}) AND pg_table_is_visible(oid)`.execute(source.db);
    return Number(r.rows[0]?.n ?? 0);
  }
  let total = 0;
  for (const t of tables) {
    const r = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(t.name)}`.execute(source.db);
    total += Number(r.rows[0]?.n ?? 0);
  }
  return total;
}
