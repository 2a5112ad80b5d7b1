/**
 * exceljs's own ceiling: its streaming writer alone, rows built in memory with the call
 * detail's shape (23 cells: integers, date-times, text), bold frozen header, number
 * formats, autofilter; no DuckDB, no HTTP. What the XLSX export can approach at best:
 *   npx tsx bench/xlsx-ceiling.ts [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';

const rows = Number(process.argv[2] ?? 200_000);
const file = path.join(os.tmpdir(), `callboard-xlsx-ceiling-${process.pid}.xlsx`);
const out = fs.createWriteStream(file);
const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
const ws = wb.addWorksheet('calls', { views: [{ state: 'frozen', ySplit: 1 }] });
ws.columns = Array.from({ length: 23 }, (_, i) => ({
  header: `Column ${i}`, key: `c${i}`, width: 14,
  style: i % 3 === 0 ? { numFmt: '#,##0' } : i % 3 === 1 ? { numFmt: 'yyyy-mm-dd hh:mm:ss' } : {},
}));
ws.getRow(1).font = { bold: true };
ws.autoFilter = 'A1:W1';
let peak = 0;
const t0 = performance.now();
for (let r = 0; r < rows; r++) {
  const row: unknown[] = [];
  for (let i = 0; i < 23; i++) row.push(i % 3 === 0 ? r * 7 + i : i % 3 === 1 ? new Date(1_700_000_000_000 + r * 1000) : `text ${r}-${i}`);
  ws.addRow(row).commit();
  if (r % 10_000 === 0) {
    peak = Math.max(peak, process.memoryUsage().rss);
    // Let the file stream drain, as a writer with backpressure would.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
ws.commit();
await wb.commit();
const s = (performance.now() - t0) / 1000;
console.log(`exceljs streaming writer alone: ${rows.toLocaleString('en')} rows × 23 cells in ${s.toFixed(1)} s = ${Math.round(rows / s).toLocaleString('en')} rows/s, peak RSS ${Math.round(peak / 1e6)} MB`);
fs.rmSync(file, { force: true });
