import fs from 'node:fs';
import type { PreparedReport, ReportEngine, SliceFile, SliceFiles } from '../reports/engine.ts';
import { INTEGER_TYPES, quoted } from './csv.ts';
import type { ExportColumn } from './layout.ts';
import { SheetSeries, type Book, type XlsxStats } from './xlsx.ts';

/**
 * The call detail's XLSX rows built by DuckDB: exceljs's streaming writer, which builds a
 * model object per cell, tops out near 13,000 rows/s of the call detail on these machines
 * (bench/xlsx-ceiling.ts) — a sixth of the goal — and no maintained streaming writer with
 * styles does better. exceljs still writes the package here (parts, styles, the sheet's
 * header, columns, frozen pane, autofilter); only the `<row>` elements come from SQL, cell
 * for cell what exceljs writes for the same values (see xlsxCell), and exceljs's own
 * style index for each column's number format.
 */

/** A column's letters: 1 → A, 27 → AA. */
export function columnLetters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/**
 * Text as XML character data, as exceljs's xmlEncode writes it (`&`, `<`, `>` escaped; the
 * control characters XML 1.0 forbids dropped), except that line breaks are character
 * references: a row is one line of the slice file, and a reader then gets back the line
 * feed or carriage return itself.
 */
const xmlText = (v: string) => `CASE WHEN regexp_matches(${v}, '[\\x00-\\x1F\\x7F&<>]') THEN
    replace(replace(replace(replace(replace(regexp_replace(${v}, '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]', '', 'g'),
      '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), chr(10), '&#10;'), chr(13), '&#13;')
  ELSE ${v} END`;

/**
 * The SQL of one cell (`<c r=… s=…>…</c>`, or nothing for a null) over the report's result
 * columns (`types`: their DuckDB types) and `_r`, the row's number on its sheet; null when
 * only xlsxCell gives the same cell (ratios, durations, booleans, dates of other shapes).
 */
export function xlsxCellSql(col: ExportColumn, types: ReadonlyMap<string, string>, letter: string, style: number | null): string | null {
  const t = col.decl.type;
  if (t.kind === 'ratio') return null;
  const name = t.from ?? col.key;
  const type = types.get(name) ?? '';
  const ref = quoted(name);
  const open = `'<c r="${letter}', _r, '"${style === null ? '' : ` s="${style}"`}`;
  // One concat() per cell: a chain of || built each intermediate string in full.
  const cell = (value: string, attrs = '') => `CASE WHEN ${value} IS NOT NULL THEN concat(${open}${attrs}><v>', ${value}, '</v></c>') END`;
  switch (col.kind) {
    case 'integer':
    case 'id':
    case 'number':
      if ((t.kind === 'integer' || t.kind === 'integer_string') && INTEGER_TYPES.has(type)) {
        return cell(`${t.kind === 'integer' && t.nullable ? ref : `coalesce(${ref}, 0)`}::VARCHAR`);
      }
      if ((t.kind === 'string' || t.kind === 'decimal_number') && (type === 'VARCHAR' || type.startsWith('DECIMAL') || type === 'DOUBLE')) {
        // Number(text) in xlsxCell: the shortest text of the same double.
        return cell(`CASE WHEN isfinite(TRY_CAST(${ref} AS DOUBLE)) THEN TRY_CAST(${ref} AS DOUBLE)::VARCHAR END`);
      }
      return null;
    case 'datetime':
    case 'date': {
      // The call detail's times are ISO texts in the request's timezone, so the wall clock
      // Excel shows is the text before the offset (excelDate): `YYYY-MM-DDTHH:MM:SS.mmm`.
      if (t.kind !== 'string' || type !== 'VARCHAR') return null;
      const local = `TRY_CAST(left(${ref}, 23) AS TIMESTAMP)`;
      return cell(`(25569 + epoch_ms(${local}) / 86400000)::VARCHAR`);
    }
    case 'text':
      if (type !== 'VARCHAR') return null;
      return cell(xmlText(ref), ' t="str"');
    default:
      return null;
  }
}

/**
 * The SELECT of each row's `<row>` XML over `numbered` (the report's rows with `_n`, the
 * row's number in the export from 1), or null when a cell needs xlsxCell. Rows continue on
 * a new sheet after the book's rows per sheet, each numbering its rows from 2, below its header.
 */
export function xlsxRowsSql(columns: readonly ExportColumn[], types: ReadonlyMap<string, string>, book: Book): ((numbered: string) => string) | null {
  const cells = columns.map((c, i) => xlsxCellSql(c, types, columnLetters(i + 1), c.numFmt ? book.styleId(c.numFmt) : null));
  if (cells.some((c) => c === null)) return null;
  // concat() skips the nulls of empty cells.
  const row = `concat('<row r="', _r, '">', ${cells.join(', ')}, '</row>')`;
  return (numbered) => `SELECT ${row} FROM (SELECT *, (_n - 1) % ${Math.trunc(book.perSheet)} + 2 AS _r FROM (${numbered}))`;
}

/**
 * Writes the slice files of row XML (one row a line) into the book's sheets, in order,
 * with the same waits as every export: the compressor's input and the destination. A
 * slice that crosses a sheet's row limit is cut at the line where the next sheet begins.
 */
export async function writeCopiedXlsx(book: Book, sheetName: string, columns: readonly ExportColumn[], slices: AsyncIterable<SliceFile>): Promise<XlsxStats> {
  const series = new SheetSeries(book, sheetName, columns);
  for await (const slice of slices) {
    const file = slice.rows > 0 ? fs.createReadStream(slice.file, { highWaterMark: 1 << 16 }) : null;
    try {
      const lines = file && new LineReader(file);
      for (let left = slice.rows; lines && left > 0;) {
        if (book.out.destroyed) return book.stats;
        const n = Math.min(left, await series.room());
        for await (const bytes of lines.take(n, n === left)) {
          series.sheet.stream.write(bytes);
          await book.drain(series.sheet);
          if (book.out.destroyed) return book.stats;
        }
        series.wrote(n);
        left -= n;
      }
    } finally {
      // A read stream destroyed before its file is open still opens it: remove the file after.
      if (file && !file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()).destroy());
      fs.rmSync(slice.file, { force: true });
    }
  }
  await series.close();
  return book.commit();
}

/** A file of lines read in chunks, handed out a number of whole lines at a time. */
class LineReader {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer | null = null;

  constructor(stream: AsyncIterable<Buffer>) {
    this.it = stream[Symbol.asyncIterator]();
  }

  /** The bytes of the next `n` lines; `all` takes the rest of the file without counting. */
  async *take(n: number, all: boolean): AsyncGenerator<Buffer, void, undefined> {
    let need = n;
    for (;;) {
      let buf = this.rest;
      this.rest = null;
      if (!buf) {
        const next = await this.it.next();
        if (next.done) return;
        buf = next.value;
      }
      if (all) {
        yield buf;
        continue;
      }
      let at = -1;
      while (need > 0) {
        at = buf.indexOf(10, at + 1);
        if (at < 0) break;
        need--;
      }
      if (need > 0) {
        yield buf;
        continue;
      }
      if (at + 1 < buf.length) this.rest = buf.subarray(at + 1);
      yield buf.subarray(0, at + 1);
      return;
    }
  }
}

/**
 * The time slices of a windowed keyset report as lines of text, one row a line: `select`
 * gets the report's rows numbered (`_n`, the row's number in the whole export, from 1) as
 * a subquery and returns the SELECT of one text column over it (the row's XML), which never
 * holds a line feed of its own; nothing is quoted. Slices go one at a time, since a row's
 * number needs the rows of the slices before it; a quarter of the report's page each, the
 * fastest size that kept the peak lowest (bench/export.ts).
 */
export function copyLineSlices(engine: ReportEngine, r: PreparedReport, select: (numbered: string) => string): SliceFiles | null {
  return engine.copySlices(
    r,
    // An empty OVER numbers the rows in the order the report's ORDER BY gave them, and a
    // SELECT keeps that order (DuckDB's documented order preservation), so a slice is
    // sorted once.
    (before) => select(`SELECT *, ${before} + row_number() OVER () AS _n FROM (${r.sql})`),
    `(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01', NEW_LINE '\n')`,
    { rows: Math.ceil(engine.slicePage(r) / 4), ahead: 1 },
  );
}
