import type { Writable } from 'node:stream';
import { ValidationError } from '../errors.ts';
import type { PreparedReport, ReportEngine, ReportStream, SliceFiles } from '../reports/engine.ts';
import type { ResultRow } from '../store/duckdb.ts';
import { copyCsvSlices, csvCellSql, writeCopiedCsv, writeCsv } from './csv.ts';
import { genericLayout, templateLayout, type ExportColumn } from './layout.ts';
import type { ExportGate } from './gate.ts';
import type { TemplateStore } from './templates.ts';
import { Book, writeWorkbook, type SheetPart, type XlsxStats } from './xlsx.ts';
import { copyLineSlices, writeCopiedXlsx, xlsxRowsSql } from './xlsx-copied.ts';

// Where a report becomes a file: the one place that chooses how. A report whose every cell
// DuckDB can write is COPY'd by DuckDB (CSV text, or each XLSX row's XML), a windowed
// keyset report slice by slice and any other at once; anything else streams rows through
// fast-csv or exceljs.

export interface ExportSettings {
  /** Data rows per XLSX sheet; Excel's limit unless a test injects a smaller one. */
  xlsxRowsPerSheet?: number;
  /** Rows per slice of a windowed export; the report's own unless a test injects a smaller one. */
  sliceRows?: number;
  /** Customer layouts (templates/); none when absent. */
  templates?: TemplateStore;
  /** Exports written at once, and queued, before 503 (src/export/gate.ts); unlimited when absent. */
  gate?: ExportGate;
}

/** An export under way: `done` settles when the file is written; `close` stops its queries. */
export interface ExportRun {
  readonly done: Promise<void>;
  close(): void;
}

/** The layout a request asks for: the generic one, or a template of its one account. */
export function layoutOf(r: PreparedReport, templates: TemplateStore | undefined): ExportColumn[] {
  const name = r.ctx.params.template;
  if (name === null) return genericLayout(r.decl, r.ctx.params);
  if (r.ctx.accounts.length !== 1) {
    throw new ValidationError({ template: ['A template belongs to one account: add account_id.'] });
  }
  const account = r.ctx.accounts[0];
  const t = templates?.get(account, r.decl.name, name);
  if (!t) {
    const names = templates?.names(account, r.decl.name) ?? [];
    throw new ValidationError({ template: [`No template "${name}" for ${r.decl.name} of account ${account}. Available: ${names.length ? names.join(', ') : 'none'}.`] });
  }
  return templateLayout(r.decl, r.ctx.params, t);
}

/**
 * Writes a prepared report to `out` as CSV or XLSX (its `format`), taking the fastest path
 * the report allows; `sheets` adds further reports as sheets of the workbook (streamed).
 * Whatever can be refused (a template that does not exist) throws before a byte is written.
 *
 * ```ts
 * const run = await writeReport(engine, prepared, out, settings);
 * await run.done;
 * ```
 */
export async function writeReport(
  engine: ReportEngine, r: PreparedReport, out: Writable, settings: ExportSettings = {},
  more: { sheets?: { name: string; report: PreparedReport }[]; onXlsx?: (stats: XlsxStats) => void } = {},
): Promise<ExportRun> {
  const format = r.ctx.params.format === 'xlsx' ? 'xlsx' : 'csv';
  const columns = layoutOf(r, settings.templates);
  const streams: { close(): void }[] = [];
  const logged = (stats: XlsxStats) => more.onXlsx?.(stats);
  let done: Promise<void>;
  const copied = format === 'csv' ? await copiedCsv(engine, r, columns) : null;
  const copiedBook = format === 'xlsx' && !more.sheets ? await copiedXlsx(engine, r, columns, out, settings) : null;
  if (copied) {
    streams.push(copied);
    done = writeCopiedCsv(out, columns, copied.files, { bom: r.ctx.params.bom });
  } else if (copiedBook) {
    streams.push(copiedBook.slices);
    done = writeCopiedXlsx(copiedBook.book, r.decl.name, columns, copiedBook.slices.files).then(logged);
  } else if (format === 'csv') {
    const rows = await engine.stream(r);
    streams.push(rows);
    done = writeCsv(out, columns, rows.chunks, { bom: r.ctx.params.bom });
  } else {
    const rows = await engine.stream(r);
    streams.push(rows);
    const parts: SheetPart[] = [{ name: more.sheets ? 'Summary' : r.decl.name, columns, chunks: rows.chunks }];
    for (const s of more.sheets ?? []) {
      // Opened lazily: a later sheet's query runs when the writer reaches it.
      const later = lazyChunks(() => engine.stream(s.report), (st) => streams.push(st));
      parts.push({ name: s.name, columns: layoutOf(s.report, settings.templates), chunks: later });
    }
    done = writeWorkbook(out, parts, { maxRowsPerSheet: settings.xlsxRowsPerSheet }).then(logged);
  }
  return { done, close: () => streams.forEach((s) => s.close()) };
}

/**
 * A report whose every CSV cell DuckDB can write as csvCell would (integers and text, say)
 * is exported by DuckDB's COPY; null otherwise.
 */
export async function copiedCsv(engine: ReportEngine, r: PreparedReport, columns: readonly ExportColumn[]): Promise<SliceFiles | null> {
  const types = await engine.columnTypes(r);
  const cells = columns.map((c) => csvCellSql(c, types));
  if (cells.some((c) => c === null)) return null;
  return copyCsvSlices(engine, r, cells as string[]);
}

/**
 * The same reports as XLSX with each row's XML built by DuckDB (src/export/xlsx-copied.ts),
 * when every column's cell can be, and no template colours cells one by one; null otherwise.
 */
async function copiedXlsx(engine: ReportEngine, r: PreparedReport, columns: readonly ExportColumn[], out: Writable, settings: ExportSettings): Promise<{ book: Book; slices: SliceFiles } | null> {
  if (columns.some((c) => c.rules)) return null;
  const book = await Book.create(out, { maxRowsPerSheet: settings.xlsxRowsPerSheet });
  const rows = xlsxRowsSql(columns, await engine.columnTypes(r), book);
  const slices = rows && copyLineSlices(engine, r, rows);
  return slices ? { book, slices } : null;
}

/** Chunks of a stream opened on first use; `opened` learns of it so it can be closed. */
async function* lazyChunks(open: () => Promise<ReportStream>, opened: (s: ReportStream) => void): AsyncGenerator<ResultRow[], void, undefined> {
  const s = await open();
  opened(s);
  yield* s.chunks;
}
