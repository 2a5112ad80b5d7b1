import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseString } from 'fast-csv';
import t from 'tap';
import type { ReportDeclaration } from '../../src/reports/declaration.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { sqlDir } from '../../src/store/sql-files.ts';
import { FIXTURE_NOW, makeApp, tmpDir } from '../helpers/fixture.ts';
import { Oracle } from '../helpers/oracle.ts';

// The README's "Add a report" walkthrough, followed as written: its SQL block and its
// declaration block, taken from the README itself, make a report that the app serves
// with no other change.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Add a report'), readme.indexOf('## Where to read more'));
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n\\s*```').exec(section);
  if (!m) throw new Error(`README "Add a report" has no ${lang} block`);
  return m[1].split('\n').map((l) => l.replace(/^ {3}/, '')).join('\n');
};

const dir = tmpDir('walkthrough');
const sqlFile = path.join(dir, 'calls-by-status.sql');
fs.writeFileSync(sqlFile, block('sql'));
// The declaration's imports are relative to src/reports/telesales/, where the README puts it.
const tsFile = path.join(dir, 'calls-by-status.mts');
const telesalesDir = path.join(root, 'src/reports/telesales');
fs.writeFileSync(tsFile, block('ts').replace(/from '(\.{1,2}\/[^']+)'/g, (_, rel: string) => `from '${path.resolve(telesalesDir, rel)}'`));
const { callsByStatus } = (await import(pathToFileURL(tsFile).href)) as { callsByStatus: ReportDeclaration };
t.equal(callsByStatus.sql, 'telesales/calls-by-status.sql', 'the declaration names the SQL file of step 1');
const decl: ReportDeclaration = { ...callsByStatus, sql: path.relative(sqlDir, sqlFile) };

const ctx = await makeApp('walkthrough', 1500, undefined, { reports: [...reportCatalogue(), decl] });
t.teardown(ctx.close);
const oracle = new Oracle(ctx.sourceFile);
const from = Date.parse('2026-11-01T00:00:00Z');
const to = Date.parse('2026-12-01T00:00:00Z');
const WINDOW = 'date_from=2026-11-01&date_to=2026-11-30&timezone=UTC';

/** The calls of account 1 in November per status, most frequent first, counted here. */
function expected(): { status: string; calls: number }[] {
  const by = new Map<string, number>();
  for (const c of oracle.calls) if (c.account_id === 1 && c.started >= from && c.started < to) by.set(c.status, (by.get(c.status) ?? 0) + 1);
  return [...by].map(([status, calls]) => ({ status, calls })).sort((a, b) => b.calls - a.calls || (a.status < b.status ? -1 : 1));
}

t.test('the new report answers JSON with the figures counted from the source rows', async (t) => {
  t.ok(FIXTURE_NOW.getTime() > to, 'the window has ended');
  const res = await ctx.get(`/api/telesales/reports/calls-by-status?${WINDOW}`, 'acct1@test');
  t.equal(res.status, 200);
  const want = expected();
  t.ok(want.length > 2, 'several statuses');
  t.strictSame(res.body, { data: want });
});

t.test('its CSV download and its /export twin carry the same rows', async (t) => {
  const token = await ctx.token('acct1@test');
  for (const url of [`/api/telesales/reports/calls-by-status?${WINDOW}&format=csv`, `/api/telesales/reports/calls-by-status/export?${WINDOW}&format=csv`]) {
    const res = await ctx.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
    t.equal(res.statusCode, 200, url);
    t.match(res.headers['content-disposition'], /calls-by-status_2026-11-01_2026-11-30\.csv/);
    const rows = await new Promise<string[][]>((resolve, reject) => {
      const out: string[][] = [];
      parseString(res.body, { headers: false }).on('data', (r: string[]) => out.push(r)).on('end', () => resolve(out)).on('error', reject);
    });
    t.strictSame(rows, [['Status', 'Calls'], ...expected().map((r) => [r.status, String(r.calls)])]);
  }
});

t.test('its parameters are checked and it is in the OpenAPI document', async (t) => {
  const bad = await ctx.get('/api/telesales/reports/calls-by-status?date_from=2026-11-01&date_to=2026-11-30&colour=red', 'acct1@test');
  t.equal(bad.status, 422);
  t.strictSame(Object.keys(bad.body.errors), ['colour']);
  const missing = await ctx.get('/api/telesales/reports/calls-by-status', 'acct1@test');
  t.equal(missing.status, 422);
  t.strictSame(Object.keys(missing.body.errors).sort(), ['date_from', 'date_to']);
  const doc = (await ctx.app.inject({ url: '/openapi.json' })).json();
  const op = doc.paths['/api/telesales/reports/calls-by-status'].get;
  t.equal(op.summary, 'Calls by status');
  t.ok(doc.paths['/api/telesales/reports/calls-by-status/export'], 'the /export twin is documented');
  t.ok(op.parameters.some((p: { name: string }) => p.name === 'campaign_id'), 'with its parameters');
});
