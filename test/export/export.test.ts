import ExcelJS from 'exceljs';
import { parseString } from 'fast-csv';
import { DateTime } from 'luxon';
import t from 'tap';
import { makeApp } from '../helpers/fixture.ts';

// User input that a spreadsheet would evaluate, in the text columns of the reports:
// agent names, disposition labels, lead sources, caller-ID names.
const ctx = await makeApp('export', 4000, (db) => {
  const agents = db.prepare(`SELECT id FROM agents WHERE account_id = 1 AND deleted_at IS NULL ORDER BY id`).all() as { id: number }[];
  const names = ['=1+2', '+SUM(A1:A9)', '-2+3', '@cmd', '\tTabbed', '\rReturn'];
  names.forEach((name, i) => db.prepare(`UPDATE agents SET name = ? WHERE id = ?`).run(name, agents[i % agents.length].id));
  db.prepare(`UPDATE leads SET source = '=HYPERLINK("http://x")' WHERE id IN (SELECT id FROM leads WHERE account_id = 1 AND created_at >= '2026-11-05' ORDER BY id LIMIT 40)`).run();
  db.prepare(`UPDATE leads SET source = '-5' WHERE id IN (SELECT id FROM leads WHERE account_id = 1 AND created_at >= '2026-11-05' ORDER BY id LIMIT 40 OFFSET 40)`).run();
  db.prepare(`UPDATE caller_ids SET display_name = '+84912345678' WHERE id = (SELECT min(id) FROM caller_ids WHERE account_id = 1)`).run();
});
t.teardown(ctx.close);

const WINDOW = 'date_from=2026-11-01&date_to=2027-01-10&timezone=America/New_York&account_id=1';
const REPORTS = ['dashboard', 'disposition-breakdown', 'agent-performance', 'funnel', 'caller-id-health', 'hour-dow-heatmap', 'lead-source-attribution', 'time-series'];

async function download(url: string) {
  const res = await ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token('admin@test')}` } });
  return res;
}

function parseCsv(text: string): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(text, { headers: false })
      .on('data', (r: string[]) => rows.push(r))
      .on('error', reject)
      .on('end', () => resolve(rows));
  });
}

/** What a spreadsheet must not evaluate, by the rule of the issue (written again here). */
const risky = (s: string) => /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?$/.test(s) && !/^\+\d{6,15}$/.test(s);

/** The CSV text expected for a JSON value. */
function csvText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return risky(v) ? `'${v}` : v;
  return String(v);
}

/** The XLSX cell a JSON value must become, by the number format the cell carries. */
function expectedCell(v: unknown, numFmt: string | undefined, zone: string): unknown {
  if (v === null || v === undefined) return null;
  if (numFmt?.endsWith('%')) return Number(v) / 100;
  if (numFmt === '[h]:mm:ss') {
    const [h, m, s] = String(v).split(':').map(Number);
    return (h * 3600 + m * 60 + s) / 86400;
  }
  if (numFmt?.startsWith('yyyy-mm-dd')) {
    const d = /Z$|[+-]\d\d:\d\d$/.test(String(v)) ? DateTime.fromISO(String(v)).setZone(zone) : DateTime.fromISO(String(v).replace(' ', 'T'), { zone: 'UTC' });
    return new Date(Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second));
  }
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v;
  // Numbers the JSON writes as strings ("1234" talk seconds) are numbers in XLSX.
  if (numFmt && /[0#]/.test(numFmt)) return Number(v);
  // XML stores every line end as a line feed: a carriage return comes back as one.
  return typeof v === 'string' ? v.replace(/\r\n?/g, '\n') : v;
}

const jsonRows = (data: unknown): Record<string, unknown>[] => (Array.isArray(data) ? data : [data]) as Record<string, unknown>[];

for (const report of REPORTS) {
  for (const extra of report === 'time-series' ? ['&group_by=day', '&group_by=hour', '&group_by=week'] : ['']) {
    t.test(`${report}${extra}: CSV and XLSX hold exactly the JSON`, async (t) => {
      const json = await download(`/api/telesales/reports/${report}?${WINDOW}${extra}`);
      t.equal(json.statusCode, 200);
      const expected = jsonRows(json.json().data);
      t.ok(expected.length > 0, 'the report has rows');
      const keys = Object.keys(expected[0]);

      const csv = await download(`/api/telesales/reports/${report}/export?${WINDOW}${extra}&format=csv`);
      t.equal(csv.statusCode, 200);
      t.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
      t.equal(csv.headers['content-disposition'], `attachment; filename="${report}_2026-11-01_2027-01-10.csv"`);
      t.match(csv.body, /\r\n$/, 'CRLF line ends');
      const table = await parseCsv(csv.body);
      t.equal(table.length, expected.length + 1, 'a header and one line per row, nothing cut');
      t.equal(table[0].length, keys.length);
      expected.forEach((row, i) => t.same(table[i + 1], keys.map((k) => csvText(row[k])), `csv row ${i + 1}`));

      const same = await download(`/api/telesales/reports/${report}?${WINDOW}${extra}&format=csv`);
      t.equal(same.body, csv.body, 'format=csv on the report endpoint is the same file');

      const xlsx = await download(`/api/telesales/reports/${report}/export?${WINDOW}${extra}&format=xlsx`);
      t.equal(xlsx.statusCode, 200);
      t.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
      t.equal(wb.worksheets.length, 1);
      const ws = wb.worksheets[0];
      t.equal(ws.name, report.slice(0, 31));
      t.equal(ws.rowCount, expected.length + 1);
      t.ok(ws.getRow(1).getCell(1).font?.bold, 'bold header');
      t.equal(ws.views[0]?.state, 'frozen');
      t.ok(ws.autoFilter, 'autofilter');
      let mismatches = 0;
      expected.forEach((row, i) => {
        keys.forEach((k, c) => {
          const cell = ws.getRow(i + 2).getCell(c + 1);
          const want = expectedCell(row[k], cell.numFmt, 'America/New_York');
          const ok = typeof want === 'number' && typeof cell.value === 'number' ? Math.abs(want - cell.value) < 1e-9
            : want instanceof Date && cell.value instanceof Date ? want.getTime() === cell.value.getTime()
            : want === cell.value;
          if (!ok && mismatches++ < 5) t.fail(`xlsx row ${i + 1} ${k}: ${String(cell.value)} (${cell.numFmt}) for JSON ${JSON.stringify(row[k])}`);
        });
      });
      t.equal(mismatches, 0, 'every XLSX cell matches the JSON');
    });
  }
}

t.test('formula-like text is neutralised; numbers and E.164 numbers are not', async (t) => {
  const agents = await parseCsv((await download(`/api/telesales/reports/agent-performance/export?${WINDOW}&format=csv`)).body);
  const names = agents.slice(1).map((r) => r[1]);
  for (const n of ['=1+2', '+SUM(A1:A9)', '-2+3', '@cmd', '\tTabbed', '\rReturn']) {
    if (names.includes(`'${n}`)) t.pass(`${JSON.stringify(n)} is written as '${JSON.stringify(n).slice(1)}`);
    else t.notOk(names.includes(n), `${JSON.stringify(n)} never appears bare`);
  }
  t.ok(names.some((n) => n.startsWith("'")), 'at least one agent name was neutralised');
  const sources = (await parseCsv((await download(`/api/telesales/reports/lead-source-attribution/export?${WINDOW}&format=csv`)).body)).map((r) => r[0]);
  t.ok(sources.includes(`'=HYPERLINK("http://x")`), 'a formula lead source is neutralised');
  t.ok(sources.includes('-5'), 'a negative number stays a number');
  const cids = (await parseCsv((await download(`/api/telesales/reports/caller-id-health/export?${WINDOW}&format=csv`)).body)).map((r) => r[1]);
  t.ok(cids.includes('+84912345678'), 'an E.164 number stays usable');
  const xlsx = await download(`/api/telesales/reports/agent-performance/export?${WINDOW}&format=xlsx`);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
  const cells = wb.worksheets[0].getColumn(2).values.slice(2);
  t.ok(cells.includes('=1+2'), 'in XLSX the name is a text cell holding the text itself');
  t.notOk(wb.worksheets[0].getColumn(2).values.some((v) => typeof v === 'object' && v !== null && 'formula' in v), 'no formula cell');
});

t.test('bad export requests get the JSON error, not a broken file', async (t) => {
  const bad = await download(`/api/telesales/reports/dashboard/export?date_from=2026-01-01&date_to=2026-06-01&format=csv`);
  t.equal(bad.statusCode, 422);
  t.match(bad.headers['content-type'], /application\/json/);
  t.ok(bad.json().errors.date_to, 'names the field');
  const noFormat = await download(`/api/telesales/reports/dashboard/export?${WINDOW}`);
  t.equal(noFormat.statusCode, 422);
  t.ok(noFormat.json().errors.format);
  const pdf = await download(`/api/telesales/reports/dashboard/export?${WINDOW}&format=pdf`);
  t.equal(pdf.statusCode, 422);
  t.same(pdf.json().errors.format, ['The format must be one of: csv, xlsx.']);
  const abandon = await download(`/api/telesales/reports/abandon-rate/export?campaign_id=1&format=csv`);
  t.equal(abandon.statusCode, 404, 'abandon-rate has no export');
  const abandonCsv = await download(`/api/telesales/reports/abandon-rate?campaign_id=1&format=csv`);
  t.equal(abandonCsv.statusCode, 422, 'and format=csv on it is refused');
  const bomJson = await download(`/api/telesales/reports/dashboard?${WINDOW}&bom=1`);
  t.equal(bomJson.statusCode, 422, 'bom without csv is refused');
  const foreign = await ctx.app.inject({ method: 'GET', url: `/api/telesales/reports/dashboard/export?date_from=2026-11-01&date_to=2026-11-30&account_id=2&format=csv`, headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` } });
  t.equal(foreign.statusCode, 404, "another account's export is a 404");
});

t.test('bom=1 starts the CSV with a UTF-8 byte order mark', async (t) => {
  const res = await download(`/api/telesales/reports/dashboard/export?${WINDOW}&format=csv&bom=1`);
  t.same([...res.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const plain = await download(`/api/telesales/reports/dashboard/export?${WINDOW}&format=csv`);
  t.equal(res.rawPayload.length, plain.rawPayload.length + 3);
});

t.test('an XLSX export past the sheet row limit continues on further sheets', async (t) => {
  // A small limit is injected; the default is Excel's own (EXCEL_MAX_DATA_ROWS).
  const small = await makeApp('export-sheets', 1500, undefined, { exports: { xlsxRowsPerSheet: 50 } });
  t.teardown(small.close);
  const auth = { authorization: `Bearer ${await small.token('admin@test')}` };
  const json = (await small.app.inject({ method: 'GET', url: `/api/telesales/reports/hour-dow-heatmap?${WINDOW}`, headers: auth })).json().data as Record<string, unknown>[];
  t.equal(json.length, 168);
  const res = await small.app.inject({ method: 'GET', url: `/api/telesales/reports/hour-dow-heatmap/export?${WINDOW}&format=xlsx`, headers: auth });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
  t.same(wb.worksheets.map((w) => w.name), ['hour-dow-heatmap', 'hour-dow-heatmap (2)', 'hour-dow-heatmap (3)', 'hour-dow-heatmap (4)']);
  const rows: unknown[][] = [];
  for (const ws of wb.worksheets) {
    t.same((ws.getRow(1).values as unknown[]).slice(1), ['Day of week (0 = Sun)', 'Hour', 'Dials', 'Answered', 'Answer rate %'], `${ws.name} repeats the header`);
    ws.eachRow((row, n) => { if (n > 1) rows.push((row.values as unknown[]).slice(1)); });
  }
  t.equal(rows.length, 168, 'no row lost or repeated');
  t.same(rows.map((r) => r.slice(0, 4)), json.map((r) => [r.day_of_week, r.hour, r.dials, r.answered]));
});
