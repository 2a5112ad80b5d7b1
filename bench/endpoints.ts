/**
 * p50/p95 over HTTP of the company dashboard, partner API, widgets, campaign summary and
 * billing endpoints (goal: p95 under 150 ms on the 10-million-call source). Part of
 * `npm run bench`; run alone against the store an earlier bench left in bench-data/:
 *   BENCH_CALLS=10000000 npx tsx bench/endpoints.ts
 */
import { addKey } from '../src/auth/api-keys.ts';
import type { MetaDb } from '../src/meta/db.ts';
import { WIDGETS } from '../src/reports/widgets/widgets.ts';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { exportWindows } from './export.ts';
import { latency, serveBench, whenRunAlone } from './serve.ts';


export async function timeOtherEndpoints(base: string, token: string, meta: MetaDb, store: Store, requests: number): Promise<void> {
  const key = await addKey(meta, 1);
  const bearer = { authorization: `Bearer ${token}` };
  const partner = { 'x-auth-id': key.authId, 'x-auth-token': key.token };
  const endpoints: [string, string, Record<string, string>][] = [
    ['company dashboard (30 days)', '/api/v1/dashboard/?days=30&account_id=1', bearer],
    ['partner dashboard', '/api/partner/v1/dashboard', partner],
    ['partner analytics (30 days)', '/api/partner/v1/analytics', partner],
    ...WIDGETS.map((w): [string, string, Record<string, string>] => [`widget ${w.name}`, `/api/widgets/data?type=${w.name}&customer_id=1&timezone=America/New_York`, bearer]),
    ['campaign report summary', '/api/system/campaigns/report/summary/?account_id=1&page_size=100', bearer],
    ['billing reconciliation (JSON)', '/api/billing/reconciliation?month=2026-10', bearer],
  ];
  const only = process.env.BENCH_ENDPOINTS ? new RegExp(process.env.BENCH_ENDPOINTS) : null;
  console.log(`\nother endpoints over HTTP, ${requests} sequential requests each (goal: p95 under 150 ms):`);
  console.log(`${'endpoint'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}`);
  for (const [label, url, headers] of endpoints) {
    if (only && !only.test(label)) continue;
    const get = async () => {
      const res = await fetch(`${base}${url}`, { headers });
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const { p50, p95 } = await latency(get, requests);
    console.log(`${label.padEnd(40)} ${p50.toFixed(1).padStart(8)} ${p95.toFixed(1).padStart(8)}`);
    record(`endpoints.${label}.p50_ms`, p50);
    record(`endpoints.${label}.p95_ms`, p95);
  }
  if (!only || only.test('campaign report download')) await timeCampaignDownload(base, bearer, store);
}

/**
 * The per-campaign download is a file of one row per lead: timed whole (p50/p95 of a few
 * downloads) and as rows/s, for the account's largest campaign, next to the call detail
 * export of a window of about as many rows on the same server (the baseline every export
 * aims at), in the same run.
 */
async function timeCampaignDownload(base: string, headers: Record<string, string>, store: Store): Promise<void> {
  const [top] = await store.all(`SELECT campaign_id AS id, count(*)::INTEGER AS n FROM leads
    WHERE account_id = 1 AND deleted_at IS NULL GROUP BY 1 ORDER BY n DESC, id LIMIT 1`);
  if (!top) return;
  const [window] = await exportWindows(store, [Number(top.n)]);
  const download = (url: string) => async () => {
    const res = await fetch(`${base}${url}`, { headers });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  for (const format of ['csv', 'xlsx']) {
    const campaign = await latency(download(`/api/system/campaigns/report/download/?campaign_id=${top.id}&format=${format}`), 5);
    const calls = await latency(download(`/api/calls?${window.query}&format=${format}`), 5);
    const rate = Number(top.n) / (campaign.p50 / 1000);
    const baseline = window.rows / (calls.p50 / 1000);
    const label = `campaign report download (${format}, ${Number(top.n).toLocaleString('en')} leads)`;
    console.log(`${label.padEnd(40)} ${campaign.p50.toFixed(1).padStart(8)} ${campaign.p95.toFixed(1).padStart(8)}   ${Math.round(rate).toLocaleString('en')} rows/s at p50 = ${(rate / baseline).toFixed(2)}× the call detail's ${Math.round(baseline).toLocaleString('en')} rows/s (${window.rows.toLocaleString('en')} calls)`);
    record(`exports.campaign_download.${format}.rows_per_s`, rate);
    record(`exports.campaign_download.${format}.call_detail_rows_per_s`, baseline);
    record(`exports.campaign_download.${format}.ratio_to_call_detail`, rate / baseline);
  }
}

await whenRunAlone(import.meta.url, async (store) => {
  const { app, meta, base, token } = await serveBench(store);
  await timeOtherEndpoints(base, token, meta, store, Number(process.env.BENCH_REQUESTS ?? 20));
  await app.close();
});
