import t from 'tap';
import { makeApp } from '../helpers/fixture.ts';

// Malformed requests on every report endpoint: each answers below 500. The generator is
// seeded, so a failure names a request that fails again.
const ctx = await makeApp('fuzz', 1500);
t.teardown(ctx.close);

const URLS = [
  '/api/telesales/reports/dashboard', '/api/telesales/reports/time-series', '/api/telesales/reports/agent-performance',
  '/api/telesales/reports/caller-id-health', '/api/telesales/reports/funnel', '/api/telesales/reports/abandon-rate',
  '/api/telesales/reports/hour-dow-heatmap/export', '/api/calls', '/api/v1/dashboard/', '/api/widgets/data',
  '/api/system/campaigns/report/summary/', '/api/system/campaigns/report/download/', '/api/billing/reconciliation',
  '/api/billing/mismatches', '/api/admin/jobs', '/api/admin/rejects',
];
const KEYS = [
  'date_from', 'date_to', 'timezone', 'campaign_id', 'agent_ids[]', 'agent_ids', 'team_id', 'group_by', 'format', 'bom', 'template',
  'window_minutes', 'account_id', 'direction', 'status', 'limit', 'cursor', 'days', 'from_date', 'to_date', 'customer_id', 'type',
  'page', 'page_size', 'month', 'job', 'table', 'constructor', '__proto__', 'toString', 'a[b]', '', 'date_from[]',
];
const VALUES = [
  '', ' ', '0', '-1', '1', '2', '1.5', '1e309', '99999999999999999999999', 'NaN', 'null', 'true', '[]', '{}', 'abc', '%00', '\u0000',
  '2026-12-01', '2026-02-30', '2026-12-01T08:04:42.001Z', '2026-12-01T25:00:00', '9999-12-31', '0001-01-01', '1969-12-31T23:59:59Z',
  '2026-13', '2026-11', 'UTC', 'Mars/Olympus', 'Asia/Kolkata', 'Pacific/Chatham', 'csv', 'xlsx', 'json', 'pdf', 'day', 'week', 'hour',
  'outbound', 'completed', 'call_totals', 'calls_per_day', 'sync', 'calls', '1,,2', '1,2,3', 'x'.repeat(5000), "'; DROP TABLE calls; --",
  '<script>alert(1)</script>', '=HYPERLINK("x")', '日本語', 'WyIyMDI2IiwxXQ', 'eyJhIjoxfQ',
];

let seed = 20261203;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};

t.test('malformed requests never answer 5xx', async (t) => {
  const token = await ctx.token('admin@test');
  const failures: string[] = [];
  let n = 0;
  for (let i = 0; i < 800; i++) {
    const url = URLS[rand(URLS.length)];
    const parts: string[] = [];
    for (let k = rand(5); k >= 0; k--) parts.push(`${encodeURIComponent(KEYS[rand(KEYS.length)])}=${encodeURIComponent(VALUES[rand(VALUES.length)])}`);
    const request = `${url}?${parts.join('&')}`;
    const res = await ctx.app.inject({ method: 'GET', url: request, headers: { authorization: `Bearer ${token}` } });
    n++;
    if (res.statusCode >= 500) failures.push(`${res.statusCode} ${request}: ${res.body.slice(0, 200)}`);
  }
  t.equal(n, 800);
  t.strictSame(failures, [], 'no 5xx');
});
