import { drained } from './drain.ts';
import { PassThrough, type Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import type { ResultRow } from '../store/duckdb.ts';
import { jsonValue, ruleHolds, type ExportColumn } from './layout.ts';

type Excel = typeof ExcelJS;
let excel: Promise<Excel> | null = null;
/**
 * exceljs, loaded when the first workbook is made: the server holds its 17 MB from the
 * first XLSX export on, not from start-up (idle, and through every CSV export).
 */
function loadExcel(): Promise<Excel> {
  excel ??= import('exceljs').then((m) => m.default);
  return excel;
}

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
  const book = await Book.create(out, opts);
  for (const part of parts) {
    if (out.destroyed) return book.stats;
    await writeTable(book, part);
  }
  return book.commit();
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

/** exceljs's worksheet writer as this module uses it beyond the typings: its sheet XML stream. */
interface SheetWriter extends ExcelJS.Worksheet {
  readonly stream: { write(data: Buffer): unknown };
  commit(): Promise<void>;
}

/**
 * One workbook being written to `out`, with exceljs's streaming writer doing the package
 * (parts, styles, sheet headers and footers), and the sheets of its tables opened and
 * closed in turn: a bold, frozen header with an autofilter over the rows the sheet got.
 */
export class Book {
  readonly stats: XlsxStats = { rows: 0, sheets: 0, maxBacklogBytes: 0 };
  private readonly zip = new PassThrough({ highWaterMark: 1 << 20 });
  private readonly wb: ExcelJS.stream.xlsx.WorkbookWriter;
  private piped = false;

  /** Data rows a sheet takes before its table continues on the next. */
  readonly perSheet: number;

  /** Nothing reaches `out` before the first sheet opens: a book made and not used leaves it untouched. */
  static async create(out: Writable, opts: Pick<XlsxOptions, 'fixedDate' | 'maxRowsPerSheet'>): Promise<Book> {
    return new Book(out, opts, await loadExcel());
  }

  private constructor(readonly out: Writable, opts: Pick<XlsxOptions, 'fixedDate' | 'maxRowsPerSheet'>, private readonly excel: Excel) {
    this.perSheet = opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
    this.wb = new excel.stream.xlsx.WorkbookWriter({ stream: this.zip, useStyles: true, useSharedStrings: false });
    if (opts.fixedDate) {
      this.wb.created = opts.fixedDate;
      this.wb.modified = opts.fixedDate;
    }
  }

  /** The style index (`s` of a cell) exceljs gives cells of this number format. */
  styleId(numFmt: string): number {
    const styles = (this.wb as unknown as { styles: { addStyleModel(style: Partial<ExcelJS.Style>, type: ExcelJS.ValueType): number } }).styles;
    return styles.addStyleModel({ numFmt }, this.excel.ValueType.Number);
  }

  /** A new sheet with the header row written. */
  openSheet(title: string, columns: readonly ExportColumn[]): SheetWriter {
    if (!this.piped) this.zip.pipe(this.out);
    this.piped = true;
    const ws = this.wb.addWorksheet(title.slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] }) as SheetWriter;
    ws.columns = columns.map((c) => ({ key: c.key, width: c.width, style: c.numFmt ? { numFmt: c.numFmt } : {} }));
    const header = ws.addRow(columns.map((c) => c.label));
    header.font = { bold: true };
    header.commit();
    this.stats.sheets++;
    return ws;
  }

  /** Waits while the sheet's compressor or the destination is full. */
  async drain(ws: SheetWriter): Promise<void> {
    const entry = sheetEntry(ws);
    if (entry) {
      this.stats.maxBacklogBytes = Math.max(this.stats.maxBacklogBytes, entry._writableState.length);
      if (entry._writableState.needDrain) await drained(entry, this.out);
    }
    if (this.zip.writableNeedDrain) await drained(this.zip, this.out);
  }

  async commit(): Promise<XlsxStats> {
    await this.wb.commit();
    return this.stats;
  }
}

/**
 * The sheets of one table in turn, `{name}`, `{name} (2)`, …, each taking the book's rows
 * per sheet and closed with an autofilter over the rows it got.
 */
export class SheetSeries {
  sheet: SheetWriter;
  private sheets = 1;
  private inSheet = 0;

  constructor(private readonly book: Book, private readonly name: string, private readonly columns: readonly ExportColumn[]) {
    this.sheet = book.openSheet(name, columns);
  }

  /** How many rows `sheet` still takes, after moving on to a new sheet when it is full. */
  async room(): Promise<number> {
    if (this.inSheet === this.book.perSheet) {
      await this.close();
      this.sheet = this.book.openSheet(`${this.name} (${++this.sheets})`, this.columns);
      this.inSheet = 0;
    }
    return this.book.perSheet - this.inSheet;
  }

  /** `n` rows went into `sheet`. */
  wrote(n: number): void {
    this.inSheet += n;
    this.book.stats.rows += n;
  }

  async close(): Promise<void> {
    this.sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: this.inSheet + 1, column: this.columns.length } };
    await this.sheet.commit();
  }
}

async function writeTable(book: Book, part: SheetPart): Promise<void> {
  const { columns, chunks } = part;
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
  const series = new SheetSeries(book, part.name, columns);
  let room = await series.room();
  for await (const rows of chunks) {
    if (book.out.destroyed) return;
    for (const row of rows) {
      if (room === 0) room = await series.room();
      const added = series.sheet.addRow(columns.map((c) => xlsxCell(c, row)));
      if (styled) colour(added, row);
      added.commit();
      series.wrote(1);
      room--;
    }
    await book.drain(series.sheet);
  }
  await series.close();
}
