import { drained } from './drain.ts';
import { PassThrough, type Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import type { ResultRow } from '../store/duckdb.ts';
import { jsonValue, ruleHolds, type ExportColumn } from './layout.ts';

/** Excel's sheet limit: 1,048,576 rows, one of them the header. */
export const EXCEL_MAX_DATA_ROWS = 1_048_575;

export interface XlsxOptions {
  /** The first sheet's name (the report's); later sheets are "name (2)", "name (3)", … */
  sheetName: string;
  /** Data rows per sheet before the export continues on a new sheet. */
  maxRowsPerSheet?: number;
  /**
   * Dates the workbook's properties with this instead of now (the monthly billing files,
   * whose zip entries are then stamped with stampZipEntries).
   */
  fixedDate?: Date;
}

/** What a workbook's writing went through, for logs, the bench and tests. */
export interface XlsxStats {
  rows: number;
  sheets: number;
  /** The most bytes of sheet XML ever waiting for the zip compressor (see sheetEntry). */
  maxBacklogBytes: number;
}

/** One table of a workbook: its sheet name, layout and rows. */
export interface SheetPart {
  name: string;
  columns: readonly ExportColumn[];
  chunks: AsyncIterable<ResultRow[]>;
}

/**
 * The Date whose UTC fields are the wall-clock time Excel should show: Excel dates have
 * no zone. A text with an offset (or Z) is an instant, shown in the request's timezone;
 * one without is already local.
 */
function excelDate(iso: string, zone: string): Date | null {
  if (/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) {
    const local = DateTime.fromISO(iso, { setZone: true }).setZone(zone);
    if (!local.isValid) return null;
    return new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second, local.millisecond));
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?/.exec(iso);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms] = m;
  return new Date(Date.UTC(+y, +mo - 1, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0), +(ms ?? '0').padEnd(3, '0')));
}

function hmsSeconds(hms: string): number {
  const [h, m, s] = hms.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/** A cell value of the kind the layout gives its column; the JSON value is the source. */
export function xlsxCell(col: ExportColumn, row: ResultRow): ExcelJS.CellValue {
  const v = jsonValue(col, row);
  if (v === null || v === undefined) return null;
  switch (col.kind) {
    case 'integer':
    case 'id':
    case 'number':
      return Number(v);
    case 'percent':
      return Number(v) / 100;
    case 'duration':
      return hmsSeconds(String(v)) / 86_400;
    case 'date':
    case 'datetime':
      return excelDate(String(v), col.zone) ?? String(v);
    case 'boolean':
      return Boolean(v);
    case 'text':
      // A string cell is never a formula: Excel and LibreOffice show it as it is.
      return String(v);
  }
}

/**
 * Streams rows into an XLSX workbook written to `out` with exceljs's streaming writer:
 * a bold, frozen header with an autofilter, typed cells with number formats, and a new
 * sheet whenever a sheet reaches Excel's row limit. exceljs does not pass backpressure
 * on by itself, so rows are written a chunk at a time and the writer waits while `out`
 * is full.
 */
export async function writeXlsx(out: Writable, columns: readonly ExportColumn[], chunks: AsyncIterable<ResultRow[]>, opts: XlsxOptions): Promise<XlsxStats> {
  return writeWorkbook(out, [{ name: opts.sheetName, columns, chunks }], opts);
}

/** Several tables in one workbook, one after the other (each may span sheets). */
export async function writeWorkbook(out: Writable, parts: readonly SheetPart[], opts: Omit<XlsxOptions, 'sheetName'>): Promise<XlsxStats> {
  const stats: XlsxStats = { rows: 0, sheets: 0, maxBacklogBytes: 0 };
  const zip = new PassThrough({ highWaterMark: 1 << 20 });
  zip.pipe(out);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: zip, useStyles: true, useSharedStrings: false });
  if (opts.fixedDate) {
    wb.created = opts.fixedDate;
    wb.modified = opts.fixedDate;
  }
  for (const part of parts) {
    if (out.destroyed) return stats;
    await writeTable(wb, zip, out, part, opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS, stats);
  }
  await wb.commit();
  return stats;
}

/** What sheetEntry finds: a readable-stream Writable, whose state is not in Node's typings. */
interface EntryInput extends Writable {
  _writableState: { length: number; needDrain: boolean };
}

/**
 * The stream a sheet's XML goes into on its way to the zip compressor: archiver's input for
 * the sheet's entry. exceljs writes to it without looking at the answer, and deflating is
 * slower than building rows, so without a wait here the XML of every row piles up in its
 * buffer (about 1 KB per call detail row: 1.1 GB at one million rows). Reached through
 * exceljs 4.4's and archiver 5's internals, which package-lock pins; when they change
 * shape this finds nothing, the export still works, and the export test's backlog bound fails.
 */
function sheetEntry(ws: ExcelJS.Worksheet): EntryInput | null {
  const pipes = (ws as unknown as { stream?: { pipes?: unknown[] } }).stream?.pipes;
  const entry = pipes?.[0] as Partial<EntryInput> | undefined;
  if (!entry || typeof entry.once !== 'function' || typeof entry._writableState?.length !== 'number') return null;
  return entry as EntryInput;
}

async function writeTable(
  wb: ExcelJS.stream.xlsx.WorkbookWriter, zip: PassThrough, out: Writable, part: SheetPart, perSheet: number, stats: XlsxStats,
): Promise<void> {
  const { columns, chunks } = part;
  let sheet: ExcelJS.Worksheet | null = null;
  let sheets = 0;
  let inSheet = 0;

  const openSheet = () => {
    sheets++;
    const name = sheets === 1 ? part.name : `${part.name} (${sheets})`;
    const ws = wb.addWorksheet(name.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = columns.map((c) => ({ key: c.key, width: c.width, style: c.numFmt ? { numFmt: c.numFmt } : {} }));
    const header = ws.addRow(columns.map((c) => c.label));
    header.font = { bold: true };
    header.commit();
    inSheet = 0;
    stats.sheets++;
    return ws;
  };
  const closeSheet = async (ws: ExcelJS.Worksheet) => {
    ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: inSheet + 1, column: columns.length } };
    await (ws as unknown as { commit(): Promise<void> }).commit();
  };

  const styled = columns.some((c) => c.rules);
  const colour = (added: ExcelJS.Row, row: ResultRow) => {
    columns.forEach((c, i) => {
      const hit = c.rules?.find((r) => ruleHolds(r, jsonValue(c, row)));
      if (!hit) return;
      const cell = added.getCell(i + 1);
      if (hit.color) cell.font = { color: { argb: `FF${hit.color.slice(1).toUpperCase()}` } };
      if (hit.fill) cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: `FF${hit.fill.slice(1).toUpperCase()}` } };
    });
  };
  sheet = openSheet();
  for await (const rows of chunks) {
    if (out.destroyed) return;
    stats.rows += rows.length;
    for (const row of rows) {
      if (inSheet === perSheet) {
        await closeSheet(sheet);
        sheet = openSheet();
      }
      const added = sheet.addRow(columns.map((c) => xlsxCell(c, row)));
      if (styled) colour(added, row);
      added.commit();
      inSheet++;
    }
    const entry = sheetEntry(sheet);
    if (entry) {
      stats.maxBacklogBytes = Math.max(stats.maxBacklogBytes, entry._writableState.length);
      if (entry._writableState.needDrain) await drained(entry, out);
    }
    if (zip.writableNeedDrain) await drained(zip, out);
  }
  await closeSheet(sheet);
}
