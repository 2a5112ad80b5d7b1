/**
 * The web console on the 10M-call store: each page's server time (p50, p95) for one account
 * over 90 days in America/New_York, next to the API's dashboard in the same run; the
 * overview's weight as sent gzipped, with everything it loads; and its first contentful paint in
 * headless Chromium on loopback. Goals: p95 under 150 ms, under 150 KB, FCP under 1 s.
 *   BENCH_CALLS=10000000 npx tsx bench/console.ts   (on the store `npm run bench` left)
 */
import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { parseHTML } from 'linkedom';
import type { Principal } from '../src/auth/principal.ts';
import { BOUND_TYPES, ReportEngine } from '../src/reports/engine.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { BENCH_NOW, latency, serveBench, whenRunAlone } from './serve.ts';

const CHROMIUM = process.env.CALLBOARD_CHROMIUM ?? '/usr/bin/chromium';
const VIEW = 'date_from=2026-08-27&date_to=2026-11-24&timezone=America/New_York&account_id=1';
const OVERVIEW = ['dashboard', 'time-series', 'funnel', 'disposition-breakdown', 'hour-dow-heatmap', 'agent-performance', 'lead-source-attribution', 'caller-id-health'];
const PAGES = ['telesales', 'compliance', 'company', 'campaigns', 'billing', 'calls'];

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]);

/** Signs the bench admin in through the console's form; the Cookie header. */
async function signIn(base: string): Promise<string> {
  const form = await fetch(`${base}/`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
  const cookie = cookiesOf(form).join('; ');
  const res = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email: 'bench@local', password: 'bench-password' }),
  });
  return [cookie, ...cookiesOf(res)].join('; ');
}

/** The bytes the server sends for `url` to a client that accepts gzip (fetch would decode them). */
function sentBytes(url: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { cookie, 'accept-encoding': 'gzip' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
      if (res.headers['content-encoding'] !== 'gzip') reject(new Error(`${url} was sent without gzip`));
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => resolve(n));
    }).on('error', reject);
  });
}

export async function consoleBench(store: Store, runs = 20): Promise<void> {
  const { app, base, token, meta } = await serveBench(store);
  const cookie = await signIn(base);
  console.log(`\nconsole pages, account 1, 90 days, America/New_York, ${runs} sequential requests each (goal: p95 under 150 ms):`);
  const api = await latency(async () => (await fetch(`${base}/api/telesales/reports/dashboard?${VIEW}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer(), runs);
  console.log(`  ${'API dashboard (baseline)'.padEnd(26)} p50 ${api.p50.toFixed(0)} ms, p95 ${api.p95.toFixed(0)} ms`);
  record('console.api_dashboard.p95_ms', api.p95);
  for (const p of PAGES) {
    const url = `${base}/console/${p}?${p === 'billing' ? 'month=2026-10&account_id=1' : VIEW}`;
    const first = await fetch(url, { headers: { cookie } });
    if (first.status !== 200) throw new Error(`${p} answered ${first.status}`);
    const r = await latency(async () => (await fetch(url, { headers: { cookie } })).arrayBuffer(), runs);
    console.log(`  ${p.padEnd(26)} p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms (${(r.p95 / api.p95).toFixed(2)}× the API dashboard's p95)`);
    record(`console.${p}.p50_ms`, r.p50);
    record(`console.${p}.p95_ms`, r.p95);
  }
  // With the result cache on, as the server runs: a second look at a view.
  await app.close();
  const cached = await serveBench(store, undefined, { cacheBytes: 64 * 2 ** 20 });
  const cachedCookie = await signIn(cached.base);
  const overview = `${cached.base}/console/telesales?${VIEW}`;
  const warm = await latency(async () => (await fetch(overview, { headers: { cookie: cachedCookie } })).arrayBuffer(), runs);
  console.log(`  ${'telesales, cache on'.padEnd(26)} p50 ${warm.p50.toFixed(0)} ms, p95 ${warm.p95.toFixed(0)} ms`);
  record('console.telesales_cached.p95_ms', warm.p95);

  // Everything the overview loads, as the server sends it to a client that accepts gzip only.
  const html = await (await fetch(overview, { headers: { cookie: cachedCookie } })).text();
  const doc = parseHTML(html).document;
  const assets = [...doc.querySelectorAll('script[src], link[rel=stylesheet]')].map((e) => e.getAttribute('src') ?? e.getAttribute('href')!);
  const htmlSent = await sentBytes(overview, cachedCookie);
  let gz = htmlSent;
  for (const a of assets) gz += await sentBytes(`${cached.base}${a}`, cachedCookie);
  console.log(`  overview weight: ${(gz / 1024).toFixed(1)} KB sent gzipped (HTML ${(htmlSent / 1024).toFixed(1)} KB + ${assets.length} files) (goal: under 150 KB)`);
  record('console.overview_gzip_kb', gz / 1024);

  if (fs.existsSync(CHROMIUM)) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await context.addCookies(cachedCookie.split('; ').map((c) => {
      const [name, ...v] = c.split('=');
      return { name, value: v.join('='), url: cached.base };
    }));
    const page = await context.newPage();
    const fcps: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(overview, { waitUntil: 'load' });
      // The paint entry is recorded once the frame is presented, which can come after load.
      await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      fcps.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime));
    }
    await browser.close();
    fcps.sort((a, b) => a - b);
    console.log(`  overview first contentful paint: median ${fcps[2].toFixed(0)} ms, worst ${fcps[4].toFixed(0)} ms of 5 loads (goal: under 1 s)`);
    record('console.overview_fcp_ms', fcps[2]);
  }
  await cached.app.close();
  await cached.meta.destroy();
  await meta.destroy();
  await alignedReaders(store, runs);
}

/**
 * The overview's eight reports one after another, in process, on the readers with the
 * full window macros against those with the whole-slot ones (Store.allWindowed), the two
 * alternating each round: what skipping the empty partial-slot branches saves.
 */
async function alignedReaders(store: Store, runs: number): Promise<void> {
  const engine = new ReportEngine(store, () => BENCH_NOW);
  const admin: Principal = { userId: 1, email: 'bench@local', role: 'admin', accountId: null, partnerId: null };
  const query = Object.fromEntries(new URLSearchParams(VIEW));
  const reports = await Promise.all(OVERVIEW.map((name) => engine.prepare(reportCatalogue().find((d) => d.family === 'telesales' && d.name === name)!, query, admin, ['json'])));
  const times = { full: [] as number[], aligned: [] as number[] };
  for (let i = 0; i <= runs; i++) {
    for (const mode of ['full', 'aligned'] as const) {
      const t0 = performance.now();
      for (const r of reports) await (mode === 'full' ? store.all(r.sql, r.bound, BOUND_TYPES) : store.allWindowed(r.sql, r.bound, BOUND_TYPES));
      if (i > 0) times[mode].push(performance.now() - t0);
    }
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [full, aligned] = [p50(times.full), p50(times.aligned)];
  console.log(`  overview's 8 reports one after another: full window macros p50 ${full.toFixed(0)} ms, whole-slot ones ${aligned.toFixed(0)} ms (${(aligned / full).toFixed(2)}×)`);
  record('console.overview_reports.full_p50_ms', full);
  record('console.overview_reports.aligned_p50_ms', aligned);
  record('console.overview_reports.aligned_ratio', aligned / full);
}

await whenRunAlone(import.meta.url, (store) => consoleBench(store));
