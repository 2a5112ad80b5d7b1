import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parseString } from 'fast-csv';
import t from 'tap';
import { TemplateError, TemplateStore } from '../../src/export/templates.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { buildApp } from '../../src/http/app.ts';
import { FIXTURE_NOW, JWT_SECRET, makeApp, tmpDir } from '../helpers/fixture.ts';

const reports = reportCatalogue();

function dirWith(files: Record<string, string>): string {
  const dir = tmpDir('templates');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const scorecard = (threshold: number) => `templates:
  scorecard:
    columns:
      - { key: name, label: Agent }
      - dials
      - { key: conv_rate, label: "Conv %", numFmt: "0.0%" }
    rules:
      - { column: conv_rate, op: "<", value: ${threshold}, color: "#C00000" }
`;
const SCORECARD = scorecard(10);

t.test('templates are checked at load; a bad file is named with its problem', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ '1/agent-performance.json': '{"templates":{"x":{"columns":["nope"]}}}' }, /1\/agent-performance\.json: template "x", columns\[0\]: "nope" is not a column of agent-performance/],
    [{ '1/agent-performance.yaml': 'templates:\n  x:\n    columns: [dials]\n    rules: [{column: dials, op: "~", value: 1, color: "#FF0000"}]\n' }, /agent-performance\.yaml: template "x", rules\[0\]: "op" must be one of/],
    [{ '1/agent-performance.yaml': 'templates:\n  x:\n    columns: [dials]\n    rules: [{column: dials, op: "<", value: 1}]\n' }, /rules\[0\]: give a "color" or a "fill"/],
    [{ '1/agent-performance.yaml': 'templates: [\n' }, /agent-performance\.yaml: /],
    [{ '1/no-such-report.json': '{"templates":{}}' }, /no-such-report\.json: no exportable report is named "no-such-report"/],
    [{ '1/abandon-rate.json': '{"templates":{}}' }, /abandon-rate\.json: no exportable report/],
    [{ 'acme/dashboard.json': '{"templates":{}}' }, /acme: the directory name must be an account id/],
    [{ '1/dashboard.json': '{"templates":{"x":{"columns":["total_dials","total_dials"]}}}' }, /"total_dials" is listed twice/],
    [{ '1/dashboard.json': '{"templates":{"x":{"columns":["total_dials"],"colour":1}}}' }, /unknown key "colour"/],
  ];
  for (const [files, message] of cases) {
    const dir = dirWith(files);
    try {
      TemplateStore.load(dir, reports);
      t.fail(`accepted ${Object.keys(files)[0]}`);
    } catch (err) {
      t.ok(err instanceof TemplateError, 'a TemplateError');
      t.match((err as Error).message, message);
      t.ok((err as Error).message.startsWith(dir), 'names the file');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const good = dirWith({ '1/agent-performance.yaml': SCORECARD });
  t.same(TemplateStore.load(good, reports).names(1, 'agent-performance'), ['scorecard']);
  t.same(TemplateStore.load(path.join(good, 'missing'), reports).names(1, 'agent-performance'), [], 'no directory, no templates');
});

const ctx = await makeApp('templates', 3000);
t.teardown(ctx.close);
const WINDOW = 'date_from=2026-11-01&date_to=2027-01-10&account_id=1';
// The rule's threshold is the median conversion rate, so rows fall on both sides of it.
const rates = ((await ctx.get(`/api/telesales/reports/agent-performance?${WINDOW}`, 'admin@test')).body.data as { conv_rate: number }[]).map((r) => r.conv_rate).sort((a, b) => a - b);
const templatesDir = dirWith({ '1/agent-performance.yaml': scorecard(rates[Math.floor(rates.length / 2)]) });
const app = await buildApp({
  store: ctx.store, meta: ctx.meta, jwtSecret: JWT_SECRET, reports, now: () => FIXTURE_NOW, logLevel: 'silent',
  exports: { templates: TemplateStore.load(templatesDir, reports) },
});
t.teardown(() => app.close());
const get = async (url: string, email = 'admin@test') =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token(email)}` } });

t.test('template=NAME gives the customer layout in CSV and XLSX, with its colour rule', async (t) => {
  const json = (await get(`/api/telesales/reports/agent-performance?${WINDOW}`)).json().data as Record<string, any>[];
  const threshold = rates[Math.floor(rates.length / 2)];
  t.ok(json.some((r) => r.conv_rate < threshold) && json.some((r) => r.conv_rate >= threshold), 'rows on both sides of the rule');

  const csv = await get(`/api/telesales/reports/agent-performance/export?${WINDOW}&format=csv&template=scorecard`);
  t.equal(csv.statusCode, 200);
  const table: string[][] = await new Promise((resolve) => {
    const rows: string[][] = [];
    parseString(csv.body).on('data', (r: string[]) => rows.push(r)).on('end', () => resolve(rows));
  });
  t.same(table[0], ['Agent', 'Dials', 'Conv %']);
  t.same(table.slice(1), json.map((r) => [r.name, String(r.dials), String(r.conv_rate)]));

  const xlsx = await get(`/api/telesales/reports/agent-performance/export?${WINDOW}&format=xlsx&template=scorecard`);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  t.same((ws.getRow(1).values as unknown[]).slice(1), ['Agent', 'Dials', 'Conv %']);
  json.forEach((r, i) => {
    const cell = ws.getRow(i + 2).getCell(3);
    t.equal(cell.numFmt, '0.0%');
    t.ok(Math.abs((cell.value as number) - r.conv_rate / 100) < 1e-9);
    const red = cell.font?.color?.argb === 'FFC00000';
    t.equal(red, r.conv_rate < threshold, `row ${i + 1} (${r.conv_rate}%) ${red ? 'is' : 'is not'} red`);
  });
});

t.test('a template is chosen by name within one account', async (t) => {
  const unknown = await get(`/api/telesales/reports/agent-performance/export?${WINDOW}&format=csv&template=other`);
  t.equal(unknown.statusCode, 422);
  t.match(unknown.json().errors.template[0], /Available: scorecard/);
  const many = await get(`/api/telesales/reports/agent-performance/export?date_from=2026-11-01&date_to=2027-01-10&format=csv&template=scorecard`);
  t.equal(many.statusCode, 422, 'an admin over every account must name one');
  const own = await get(`/api/telesales/reports/agent-performance/export?date_from=2026-11-01&date_to=2027-01-10&format=csv&template=scorecard`, 'acct1@test');
  t.equal(own.statusCode, 200, "an account user gets its account's template");
  const other = await get(`/api/telesales/reports/agent-performance/export?date_from=2026-11-01&date_to=2027-01-10&format=csv&template=scorecard`, 'acct2@test');
  t.equal(other.statusCode, 422, "and never another account's");
  const json = await get(`/api/telesales/reports/agent-performance?${WINDOW}&template=scorecard`);
  t.equal(json.statusCode, 422, 'templates are for exports');
});
