import { PassThrough, type Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvCellSql, writeCopiedCsv, writeCsv } from '../export/csv.ts';
import { genericLayout, templateLayout, type ExportColumn } from '../export/layout.ts';
import type { TemplateStore } from '../export/templates.ts';
import { ValidationError } from '../errors.ts';
import { Book, writeWorkbook, type SheetPart, type XlsxStats } from '../export/xlsx.ts';
import { writeCopiedXlsx, xlsxRowsSql } from '../export/xlsx-copied.ts';
import type { CsvSlices, PreparedReport, ReportEngine, ReportStream } from '../reports/engine.ts';
import type { ResultRow } from '../store/duckdb.ts';

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** `{report}_{from}_{to}.{ext}` with the window's first and last local days. */
export function exportFilename(r: PreparedReport, ext: string): string {
  if (r.decl.filename) return `${r.decl.filename(r.ctx)}.${ext}`;
  const { from, to, timezone } = r.ctx.params;
  const parts = [r.decl.name];
  if (from && to) parts.push(from.setZone(timezone).toISODate()!, to.minus({ milliseconds: 1 }).setZone(timezone).toISODate()!);
  return `${parts.join('_')}.${ext}`;
}

export interface ExportSettings {
  /** Data rows per XLSX sheet; Excel's limit unless a test injects a smaller one. */
  xlsxRowsPerSheet?: number;
  /** Rows per slice of a windowed export; the report's own unless a test injects a smaller one. */
  sliceRows?: number;
  /** Customer layouts (templates/); none when absent. */
  templates?: TemplateStore;
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
 * Sends a prepared report as a CSV or XLSX download. Everything that can be refused
 * (validation, scope, the query itself) has failed before this point with a JSON error;
 * from here a failure can only abort the transfer, so the client sees a broken download,
 * never a short file that looks complete.
 */
export async function sendExport(req: FastifyRequest, reply: FastifyReply, engine: ReportEngine, r: PreparedReport, settings: ExportSettings = {}, more: { sheets?: { name: string; report: PreparedReport }[] } = {}): Promise<FastifyReply> {
  const format = r.ctx.params.format === 'xlsx' ? 'xlsx' : 'csv';
  const columns = layoutOf(r, settings.templates);
  const streams: { close(): void }[] = [];
  const out = new PassThrough();
  let writing: Promise<void>;
  const copied = format === 'csv' ? await copiedCsv(engine, r, columns) : null;
  const copiedBook = format === 'xlsx' && !more.sheets ? await copiedXlsx(engine, r, columns, out, settings) : null;
  const logged = (stats: XlsxStats) => { req.log.info({ reqId: req.id, report: r.decl.name, ...stats }, 'xlsx export written'); };
  if (copied) {
    streams.push(copied);
    writing = writeCopiedCsv(out, columns, copied.files, { bom: r.ctx.params.bom });
  } else if (copiedBook) {
    streams.push(copiedBook.slices);
    writing = writeCopiedXlsx(copiedBook.book, r.decl.name, columns, copiedBook.slices.files).then(logged);
  } else if (format === 'csv') {
    const rows = await engine.stream(r);
    streams.push(rows);
    writing = writeCsv(out, columns, rows.chunks, { bom: r.ctx.params.bom });
  } else {
    const rows = await engine.stream(r);
    streams.push(rows);
    const parts: SheetPart[] = [{ name: more.sheets ? 'Summary' : r.decl.name, columns, chunks: rows.chunks }];
    for (const s of more.sheets ?? []) {
      // Opened lazily: a later sheet's query runs when the writer reaches it.
      const later = lazyChunks(() => engine.stream(s.report), (st) => streams.push(st));
      parts.push({ name: s.name, columns: layoutOf(s.report, settings.templates), chunks: later });
    }
    writing = writeWorkbook(out, parts, { maxRowsPerSheet: settings.xlsxRowsPerSheet }).then(logged);
  }
  const closeAll = () => streams.forEach((s) => s.close());
  writing.catch((err: unknown) => {
    req.log.error({ err, reqId: req.id, report: r.decl.name }, 'export failed after the response started; aborting it');
    closeAll();
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  // A client that goes away destroys the stream; the writer sees it and stops the query.
  out.on('close', () => {
    if (!out.writableFinished) closeAll();
  });
  return reply
    .header('content-type', CONTENT_TYPES[format])
    .header('content-disposition', `attachment; filename="${exportFilename(r, format)}"`)
    .header('cache-control', 'no-store')
    .send(out);
}

/**
 * A windowed keyset report whose every CSV cell DuckDB can write as csvCell would (the call
 * detail: integers and text) is exported by DuckDB's COPY, slice by slice; null otherwise.
 */
export async function copiedCsv(engine: ReportEngine, r: PreparedReport, columns: readonly ExportColumn[]): Promise<CsvSlices | null> {
  if (!r.decl.keyset) return null;
  const types = await engine.columnTypes(r);
  const cells = columns.map((c) => csvCellSql(c, types));
  if (cells.some((c) => c === null)) return null;
  return engine.copyCsv(r, cells as string[]);
}

/**
 * The same reports as XLSX with each row's XML built by DuckDB (src/export/xlsx-copied.ts),
 * when every column's cell can be, and no template colours cells one by one; null otherwise.
 */
async function copiedXlsx(engine: ReportEngine, r: PreparedReport, columns: readonly ExportColumn[], out: Writable, settings: ExportSettings): Promise<{ book: Book; slices: CsvSlices } | null> {
  if (!r.decl.keyset || columns.some((c) => c.rules)) return null;
  const book = await Book.create(out, { maxRowsPerSheet: settings.xlsxRowsPerSheet });
  const rows = xlsxRowsSql(columns, await engine.columnTypes(r), book);
  const slices = rows && engine.copyLines(r, rows);
  return slices ? { book, slices } : null;
}

/** Chunks of a stream opened on first use; `opened` learns of it so it can be closed. */
async function* lazyChunks(open: () => Promise<ReportStream>, opened: (s: ReportStream) => void): AsyncGenerator<ResultRow[], void, undefined> {
  const s = await open();
  opened(s);
  yield* s.chunks;
}
