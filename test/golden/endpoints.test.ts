import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import t from 'tap';
import { addKey } from '../../src/auth/api-keys.ts';
import { makeApp } from '../helpers/fixture.ts';

// Every endpoint family's answers on the test fixture, as recorded in endpoints.json:
// status, JSON body, CSV text and XLSX cell values (a workbook's bytes carry its creation
// time). A change of structure reproduces them exactly; a change of behaviour records them
// anew on purpose: GOLDEN_RECORD=1 npx tap test/golden/endpoints.test.ts
const FILE = path.join(import.meta.dirname, 'endpoints.json');
const ctx = await makeApp('golden', 1500);
t.teardown(ctx.close);
const key = await addKey(ctx.meta, 1);

const W = 'date_from=2026-12-01&date_to=2026-12-07';
const TELESALES = ['dashboard', 'disposition-breakdown', 'agent-performance', 'funnel', 'caller-id-health', 'hour-dow-heatmap', 'lead-source-attribution', 'time-series'];
const WIDGETS = ['missed_calls', 'call_durations', 'average_calls_per_user', 'call_totals', 'calls_top_attributions', 'unique_callers',
  'call_length_distribution', 'geographic_origin', 'daily_call_distribution', 'top_customers_by_calls', 'calls_per_day'];

/** [user, url]: user `partner-key` sends the partner headers. */
const REQUESTS: [string, string][] = [
  ...TELESALES.map((r): [string, string] => ['acct1@test', `/api/telesales/reports/${r}?${W}&timezone=America/New_York`]),
  ...TELESALES.map((r): [string, string] => ['admin@test', `/api/telesales/reports/${r}/export?${W}&format=csv`]),
  ...['dashboard', 'agent-performance', 'time-series'].map((r): [string, string] => ['partner1@test', `/api/telesales/reports/${r}?${W}&format=xlsx&timezone=Asia/Kolkata`]),
  ['acct1@test', `/api/telesales/reports/time-series?${W}&group_by=hour&timezone=Pacific/Chatham`],
  ['acct1@test', '/api/telesales/reports/abandon-rate?campaign_id=1'],
  ['acct1@test', `/api/calls?${W}&limit=7`],
  ['acct1@test', `/api/calls?${W}&format=csv&timezone=Europe/London`],
  ['acct1@test', `/api/calls?${W}&format=xlsx&direction=outbound`],
  ['acct1@test', '/api/v1/dashboard/?days=45'],
  ['admin@test', '/api/v1/dashboard/'],
  ['partner-key', '/api/partner/v1/dashboard'],
  ['partner-key', '/api/partner/v1/analytics?from_date=2026-11-01&to_date=2026-12-31'],
  ...WIDGETS.map((w): [string, string] => ['acct1@test', `/api/widgets/data?type=${w}&from_date=2026-11-01&to_date=2026-12-31&timezone=Asia/Ho_Chi_Minh`]),
  ['admin@test', '/api/widgets/data?type=top_customers_by_calls&from_date=2026-11-01&to_date=2026-12-31'],
  ['acct1@test', '/api/system/campaigns/report/summary/?page=1&page_size=5'],
  ['acct1@test', '/api/system/campaigns/report/download/?campaign_id=1&format=csv'],
  ['acct1@test', '/api/system/campaigns/report/download/?campaign_id=1'],
  ['admin@test', '/api/billing/reconciliation?month=2026-11'],
  ['admin@test', '/api/billing/reconciliation?month=2026-11&format=csv'],
  ['admin@test', '/api/billing/reconciliation?month=2026-11&format=xlsx'],
  ['admin@test', '/api/billing/mismatches?month=2026-11&page_size=4'],
  ['admin@test', '/api/billing/mismatches?month=2026-11&format=csv'],
  // Errors are answers too.
  ['acct1@test', '/api/telesales/reports/dashboard?date_from=x&timezone=Nowhere&campaign_id=-1'],
  ['acct1@test', `/api/telesales/reports/dashboard?${W}&campaign_id=999999`],
  ['acct1@test', '/api/telesales/reports/nope'],
  ['acct1@test', '/api/widgets/data?type=nope'],
  ['acct1@test', '/api/billing/reconciliation?month=2099-01'],
  ['acct2@test', '/api/admin/jobs'],
];

async function answer(user: string, url: string): Promise<unknown> {
  const headers: Record<string, string> = user === 'partner-key'
    ? { 'x-auth-id': key.authId, 'x-auth-token': key.token }
    : { authorization: `Bearer ${await ctx.token(user)}` };
  const res = await ctx.app.inject({ method: 'GET', url, headers });
  const type = String(res.headers['content-type'] ?? '');
  if (/spreadsheetml/.test(type)) {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
    const sheets = book.worksheets.map((ws) => {
      const rows: unknown[][] = [];
      ws.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v instanceof Date ? v.toISOString() : v ?? null))));
      return { name: ws.name, rows };
    });
    return { status: res.statusCode, type: 'xlsx', disposition: res.headers['content-disposition'], sheets };
  }
  if (/csv/.test(type)) return { status: res.statusCode, type: 'csv', disposition: res.headers['content-disposition'], body: res.body };
  return { status: res.statusCode, type: 'json', body: res.json() };
}

const got: Record<string, unknown> = {};
for (const [user, url] of REQUESTS) got[`${user} ${url}`] = await answer(user, url);

if (process.env.GOLDEN_RECORD === '1') {
  fs.writeFileSync(FILE, `${JSON.stringify(got, null, 1)}\n`);
  t.pass(`recorded ${REQUESTS.length} answers`);
} else {
  const want = JSON.parse(fs.readFileSync(FILE, 'utf8')) as Record<string, unknown>;
  t.strictSame(Object.keys(got), Object.keys(want), 'the same requests');
  for (const k of Object.keys(want)) t.strictSame(got[k], want[k], k);
}
