import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import t, { type Test } from 'tap';
import { genericLayout } from '../../src/export/layout.ts';
import { columnLetters, xlsxRowsSql } from '../../src/export/xlsx-copied.ts';
import { Book } from '../../src/export/xlsx.ts';
import { callDetail } from '../../src/reports/calls/call-detail.ts';
import { makeApp, sourceRows } from '../helpers/fixture.ts';

// The call detail's XLSX rows are built by DuckDB (src/export/xlsx-copied.ts). These tests
// read the files back with exceljs's reader and hold every cell against the JSON of the
// same request; the special texts are set in the source, so the expected cells are literal.
const ROWS_PER_SHEET = 70;
const NASTY = {
  campaign: 'A & B <team> "quoted" \'single\'',
  agent: '=HYPERLINK("http://x.test","y")',
  lead: 'line one\nline two\r\nend\ttab',
  disposition: 'ctrl\u0001\u001F\u007F gone 🙂 ünïcødé',
};
let call: Record<string, any> = {};
// XLSX slices of 100 rows (a quarter of sliceRows): sheets begin inside slices and between them.
const ctx = await makeApp('xlsx-copied', 4000, (db) => {
  call = db.prepare(`SELECT * FROM calls WHERE account_id = 1 AND campaign_id IS NOT NULL AND agent_id IS NOT NULL AND lead_id IS NOT NULL
    AND disposition_code IS NOT NULL ORDER BY id LIMIT 1`).get() as Record<string, any>;
  db.prepare(`UPDATE campaigns SET name = ? WHERE id = ?`).run(NASTY.campaign, call.campaign_id);
  db.prepare(`UPDATE agents SET name = ? WHERE id = ?`).run(NASTY.agent, call.agent_id);
  db.prepare(`UPDATE leads SET source = ? WHERE id = ?`).run(NASTY.lead, call.lead_id);
  db.prepare(`UPDATE dispositions SET label = ? WHERE account_id = 1 AND code = ?`).run(NASTY.disposition, call.disposition_code);
}, { exports: { xlsxRowsPerSheet: ROWS_PER_SHEET, sliceRows: 400 } });
t.teardown(ctx.close);

const auth = async () => ({ authorization: `Bearer ${await ctx.token('admin@test')}` });

/** What a JSON value of a call detail column is as an XLSX cell (docs/reports.md, "Export cells"). */
function xlsxExpected(key: string, v: unknown): unknown {
  if (v === null) return null;
  if (['started_at', 'answered_at', 'ended_at'].includes(key)) {
    const d = DateTime.fromISO(String(v), { setZone: true });
    return new Date(Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.millisecond));
  }
  if (key === 'credits' || key === 'cost') return Number(v);
  // XML 1.0 cannot hold these characters at all (docs/reports.md, "Export cells").
  return typeof v === 'string' ? v.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g, '') : v;
}

/** Rows equal one by one; the first three that differ are shown. */
function sameRows(t: Test, got: unknown[][], want: unknown[][], what: string): void {
  let bad = 0;
  want.forEach((w, i) => {
    if (JSON.stringify(got[i]) === JSON.stringify(w)) return;
    if (bad++ < 3) t.same(got[i], w, `row ${i + 1}`);
  });
  t.equal(bad, 0, what);
}

async function jsonRows(q: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const res = await ctx.app.inject({ method: 'GET', url: `/api/calls?${q}&limit=10000${cursor ? `&cursor=${cursor}` : ''}`, headers: await auth() });
    const body = res.json() as { data: Record<string, unknown>[]; next_cursor: string | null };
    rows.push(...body.data);
    cursor = body.next_cursor;
  } while (cursor);
  return rows;
}

t.test('the call detail layout is one DuckDB can build, so the file below comes from it', async (t) => {
  const r = await ctx.app.engine.prepare(callDetail, { date_from: '2026-12-01', date_to: '2026-12-02', format: 'xlsx' }, { userId: 1, email: 'a', role: 'admin', accountId: null, partnerId: null }, ['xlsx']);
  const book = await Book.create(new Writable({ write: (_c, _e, done) => done() }), { maxRowsPerSheet: ROWS_PER_SHEET });
  t.ok(xlsxRowsSql(genericLayout(callDetail, r.ctx.params), await ctx.app.engine.columnTypes(r), book));
  t.same([1, 2, 26, 27, 52, 53, 702, 703].map(columnLetters), ['A', 'B', 'Z', 'AA', 'AZ', 'BA', 'ZZ', 'AAA']);
});

t.test('every cell of every sheet is the JSON value of the same request, sheet after sheet', async (t) => {
  const day = DateTime.fromISO(String(call.started_at).replace(' ', 'T'), { zone: 'utc' }).setZone('America/New_York');
  const q = `date_from=${day.minus({ days: 30 }).toISODate()}&date_to=${day.plus({ days: 30 }).toISODate()}&timezone=America/New_York&account_id=1`;
  const json = await jsonRows(q);
  t.ok(json.length > ROWS_PER_SHEET * 3, `several sheets (${json.length} rows)`);
  const res = await ctx.app.inject({ method: 'GET', url: `/api/calls?${q}&format=xlsx`, headers: await auth() });
  t.equal(res.statusCode, 200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
  const sheets = Math.ceil(json.length / ROWS_PER_SHEET);
  t.same(wb.worksheets.map((w) => w.name), Array.from({ length: sheets }, (_, i) => (i === 0 ? 'calls' : `calls (${i + 1})`)));
  const keys = callDetail.columns.map((c) => c.key);
  const got: unknown[][] = [];
  for (const ws of wb.worksheets) {
    t.same((ws.getRow(1).values as unknown[]).slice(1), callDetail.columns.map((c) => c.label), `${ws.name}: the header`);
    t.ok(ws.getRow(1).font?.bold, `${ws.name}: a bold header`);
    t.match(ws.views[0], { state: 'frozen', ySplit: 1, topLeftCell: 'A2' }, `${ws.name}: frozen below the header`);
    const n = ws.rowCount - 1;
    t.equal(ws.autoFilter, `A1:${columnLetters(keys.length)}${n + 1}`, `${ws.name}: the autofilter covers its rows`);
    for (let i = 2; i <= ws.rowCount; i++) {
      const row = ws.getRow(i);
      got.push(keys.map((_, k) => row.getCell(k + 1).value ?? null));
    }
  }
  t.equal(got.length, json.length, 'no row lost or repeated');
  const want = json.map((row) => keys.map((k) => xlsxExpected(k, row[k])));
  sameRows(t, got, want, 'every row matches the JSON');
  const first = wb.worksheets[0];
  t.equal(first.getColumn(keys.indexOf('started_at') + 1).numFmt, 'yyyy-mm-dd hh:mm:ss', 'times carry a date format');
  t.equal(first.getRow(2).getCell(keys.indexOf('talk_sec') + 1).numFmt, '#,##0', 'counts carry a number format');
  t.equal(first.getRow(2).getCell(keys.indexOf('id') + 1).numFmt, '0', 'ids a plain one');

  const mine = json.findIndex((r) => r.id === call.id);
  t.ok(mine >= 0, 'the call with the special texts is in the window');
  const cell = (key: string) => got[mine][keys.indexOf(key)];
  t.equal(cell('campaign_name'), NASTY.campaign, 'markup characters are text');
  t.equal(cell('agent_name'), NASTY.agent, 'a formula-like text is a string cell, never a formula');
  t.equal(cell('lead_source'), NASTY.lead, 'line feeds, carriage returns and tabs survive');
  t.equal(cell('disposition_label'), 'ctrl gone 🙂 ünïcødé', 'characters XML cannot hold are dropped, as exceljs drops them');
  const sources = sourceRows(ctx.sourceFile, 'leads');
  t.equal(sources.find((l) => l.id === call.lead_id)?.source, NASTY.lead, 'the source holds the text as set');
});

t.test('an empty window is a workbook with the header only', async (t) => {
  const res = await ctx.app.inject({ method: 'GET', url: `/api/calls?date_from=2020-01-01&date_to=2020-01-02&format=xlsx`, headers: await auth() });
  t.equal(res.statusCode, 200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
  t.same(wb.worksheets.map((w) => w.name), ['calls']);
  t.equal(wb.worksheets[0].rowCount, 1);
});

// An independent reader: openpyxl (Debian's python3-openpyxl, which .ci/run installs).
const PYTHON = '/usr/bin/python3';
const OPENPYXL = `
import json, sys, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
def cell(v):
    if isinstance(v, datetime.datetime): return {'d': v.isoformat(timespec='milliseconds')}
    return v
print(json.dumps([{'name': ws.title, 'freeze': ws.freeze_panes, 'filter': ws.auto_filter.ref,
  'rows': [[cell(c.value) for c in row] for row in ws.iter_rows()]} for ws in wb.worksheets]))
`;
const openpyxl = spawnSync(PYTHON, ['-c', 'import openpyxl'], { encoding: 'utf8' });
const REQUIRED = process.env.CALLBOARD_REQUIRE_OPENPYXL === '1';
if (openpyxl.status !== 0 && !REQUIRED) {
  const notice = `SKIPPED: openpyxl is not installed for ${PYTHON} (apt-get install python3-openpyxl; CI installs it and never skips)`;
  console.error(notice);
  t.test(notice, { skip: notice }, () => undefined);
} else {
  t.test('openpyxl reads the same cells, sheets, frozen header and autofilter', async (t) => {
    t.equal(openpyxl.status, 0, `openpyxl is importable by ${PYTHON} ${openpyxl.stderr ?? ''}`);
    const q = `date_from=2026-12-01&date_to=2026-12-31&timezone=Asia/Kathmandu&account_id=1`;
    const json = await jsonRows(q);
    const res = await ctx.app.inject({ method: 'GET', url: `/api/calls?${q}&format=xlsx`, headers: await auth() });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callboard-openpyxl-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'calls.xlsx');
    fs.writeFileSync(file, res.rawPayload);
    const run = spawnSync(PYTHON, ['-c', OPENPYXL, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    t.equal(run.status, 0, run.stderr);
    const sheets = JSON.parse(run.stdout) as { name: string; freeze: string; filter: string; rows: unknown[][] }[];
    const keys = callDetail.columns.map((c) => c.key);
    t.ok(sheets.length > 1, `several sheets (${sheets.length})`);
    const rows: unknown[][] = [];
    for (const s of sheets) {
      t.same(s.rows[0], callDetail.columns.map((c) => c.label), `${s.name}: the header`);
      t.equal(s.freeze, 'A2', `${s.name}: frozen below the header`);
      t.equal(s.filter, `A1:${columnLetters(keys.length)}${s.rows.length}`, `${s.name}: the autofilter`);
      rows.push(...s.rows.slice(1));
    }
    const want = json.map((row) => keys.map((k) => {
      const v = xlsxExpected(k, row[k]);
      return v instanceof Date ? { d: v.toISOString().slice(0, 23) } : v;
    }));
    t.equal(rows.length, want.length, 'every row');
    sameRows(t, rows, want, 'every cell as the JSON says');
  });
}
