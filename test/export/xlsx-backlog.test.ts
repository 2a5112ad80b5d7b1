import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import t from 'tap';
import type { ExportColumn } from '../../src/export/layout.ts';
import { writeXlsx } from '../../src/export/xlsx.ts';
import type { ResultRow } from '../../src/store/duckdb.ts';

// Rows come faster than the zip compressor takes their XML; without waiting on it, every
// row's XML would wait in memory (about 1 KB a row here: tens of MB for this test).
const ROWS = 60_000;
const CHUNK = 1_000;

const text = (key: string): ExportColumn => ({
  key, label: key, kind: 'text', width: 14, zone: 'UTC', decl: { key, label: key, type: { kind: 'string' } },
});
const integer = (key: string): ExportColumn => ({
  key, label: key, kind: 'integer', numFmt: '#,##0', width: 14, zone: 'UTC', decl: { key, label: key, type: { kind: 'integer' } },
});
const columns = [integer('id'), ...Array.from({ length: 12 }, (_, i) => text(`t${i}`)), ...Array.from({ length: 6 }, (_, i) => integer(`n${i}`))];

function row(i: number): ResultRow {
  const r: ResultRow = { id: i };
  for (let k = 0; k < 12; k++) r[`t${k}`] = `text ${i.toString(36)} ${(i * 7919 + k * 104729).toString(36)} ${k}`;
  for (let k = 0; k < 6; k++) r[`n${k}`] = i * 31 + k;
  return r;
}

async function* chunks(): AsyncGenerator<ResultRow[]> {
  for (let start = 0; start < ROWS; start += CHUNK) yield Array.from({ length: Math.min(CHUNK, ROWS - start) }, (_, k) => row(start + k));
}

t.test('the XLSX writer waits for the zip compressor instead of queueing every row in memory', async (t) => {
  const parts: Buffer[] = [];
  // A client that takes everything at once: only the compressor can be the slow side.
  const out = new Writable({ write(chunk: Buffer, _enc, done) { parts.push(chunk); done(); } });
  const finished = new Promise((resolve) => out.on('finish', resolve));
  const stats = await writeXlsx(out, columns, chunks(), { sheetName: 'calls' });
  await finished;
  t.equal(stats.rows, ROWS);
  t.equal(stats.sheets, 1);
  t.ok(stats.maxBacklogBytes > 0, `the backlog was observed (${stats.maxBacklogBytes} bytes at most)`);
  t.ok(stats.maxBacklogBytes < 8 * 1024 * 1024, `the XML waiting for the compressor stays under 8 MB (${stats.maxBacklogBytes} bytes at most)`);

  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.concat(parts) as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  t.equal(ws.rowCount, ROWS + 1, 'every row is in the file');
  for (const i of [0, 1, ROWS / 2, ROWS - 1]) {
    const expected = row(i);
    const cells = ws.getRow(i + 2);
    t.same(columns.map((c, k) => cells.getCell(k + 1).value), columns.map((c) => expected[c.key]), `row ${i} reads back`);
  }
});
