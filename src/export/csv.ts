import { once } from 'node:events';
import fs from 'node:fs';
import { drained } from './drain.ts';
import type { Writable } from 'node:stream';
import { format, writeToString } from 'fast-csv';
import type { PreparedReport, ReportEngine, SliceFile, SliceFiles } from '../reports/engine.ts';
import type { ResultRow } from '../store/duckdb.ts';
import { jsonValue, neutralise, type ExportColumn } from './layout.ts';

export interface CsvOptions {
  /** Start with a UTF-8 byte order mark so Excel reads the file as UTF-8. */
  bom: boolean;
}

/** A cell as CSV text: the JSON value, with formula-like text neutralised. */
function csvCell(col: ExportColumn, row: ResultRow): string {
  const v = jsonValue(col, row);
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return col.kind === 'text' ? neutralise(v) : v;
  return String(v);
}

/**
 * Writes rows as RFC 4180 CSV (CRLF, quoted where needed by fast-csv) into `out`,
 * waiting whenever `out` is full, so a slow reader slows the query instead of growing
 * memory. Resolves when every row is written; stops early if `out` is destroyed (the
 * client went away), which ends the row iteration and with it the query.
 */
export async function writeCsv(out: Writable, columns: readonly ExportColumn[], chunks: AsyncIterable<ResultRow[]>, opts: CsvOptions): Promise<void> {
  const csv = format<string[], string[]>({ headers: columns.map((c) => c.label), writeBOM: opts.bom, rowDelimiter: '\r\n', includeEndRowDelimiter: true, alwaysWriteHeaders: true });
  csv.pipe(out);
  for await (const rows of chunks) {
    if (out.destroyed) return;
    for (const row of rows) {
      if (!csv.write(columns.map((c) => csvCell(c, row)))) await drained(csv, out);
      if (out.destroyed) return;
    }
  }
  csv.end();
  await once(csv, 'end');
}

/** DuckDB's integer types, whose text is the JSON integer's. */
export const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);
/** A SQL identifier, quoted. */
export const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The SQL of a column's CSV cell, the same text csvCell gives, over the report's result
 * columns (`types`: their DuckDB types); null when only the JS path gives the same text
 * (ratios, durations, decimals shown as JSON numbers, booleans, non-integer "integers").
 * Formula-like text is neutralised as isFormulaLike says: the first character, then
 * neither a plain number nor an E.164 number.
 */
export function csvCellSql(col: ExportColumn, types: ReadonlyMap<string, string>): string | null {
  const t = col.decl.type;
  if (t.kind !== 'integer' && t.kind !== 'integer_string' && t.kind !== 'string') return null;
  const name = t.from ?? col.key;
  const type = types.get(name);
  const ref = quoted(name);
  if (t.kind === 'string') {
    if (type !== 'VARCHAR') return null;
    if (col.kind !== 'text') return ref;
    return `CASE WHEN ord(${ref}) IN (61, 43, 45, 64, 9, 13)
        AND NOT regexp_full_match(${ref}, '[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?')
        AND NOT regexp_full_match(${ref}, '\\+[0-9]{6,15}')
      THEN '''' || ${ref} ELSE ${ref} END`;
  }
  if (!type || !INTEGER_TYPES.has(type)) return null;
  return t.kind === 'integer' && t.nullable ? `${ref}::VARCHAR` : `coalesce(${ref}, 0)::VARCHAR`;
}

/**
 * Writes the header (fast-csv) and then each slice's CSV file as DuckDB wrote it, in
 * order, through `out` with backpressure (a slow reader pauses the file reads, and the
 * next slice waits on disk, not in memory). Each file is deleted once sent. A client that
 * goes away ends the writing quietly; a failed slice rejects, and the caller aborts the
 * response.
 */
export async function writeCopiedCsv(out: Writable, columns: readonly ExportColumn[], slices: AsyncIterable<SliceFile>, opts: CsvOptions): Promise<void> {
  const header = await writeToString([columns.map((c) => c.label)], { writeBOM: opts.bom, rowDelimiter: '\r\n', includeEndRowDelimiter: true });
  if (!out.write(header)) await drained(out, out);
  for await (const slice of slices) {
    try {
      // By hand, not stream.pipeline({ end: false }): that left a close listener on `out` per file.
      for await (const bytes of fs.createReadStream(slice.file)) {
        if (out.destroyed) return;
        if (!out.write(bytes)) await drained(out, out);
      }
    } finally {
      fs.rmSync(slice.file, { force: true });
    }
  }
  out.end();
}

/**
 * A windowed keyset report (the call detail) as CSV files that DuckDB writes itself,
 * `COPY (…) TO` one file per time slice, with `cells` the SQL of each CSV cell over the
 * report's columns (csvCellSql): DuckDB quotes by RFC 4180 at millions of rows a second.
 * A CSV slice does not depend on the ones before it, so two are written at once. Null for
 * a report without a time window.
 */
export function copyCsvSlices(engine: ReportEngine, r: PreparedReport, cells: readonly string[]): SliceFiles | null {
  return engine.copySlices(r, () => `SELECT ${cells.join(', ')} FROM (${r.sql})`, `(FORMAT csv, HEADER false, NEW_LINE '\r\n')`, { ahead: 2 });
}
