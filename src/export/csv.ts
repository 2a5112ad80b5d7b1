import { once } from 'node:events';
import { drained } from './drain.ts';
import type { Writable } from 'node:stream';
import { format } from 'fast-csv';
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
