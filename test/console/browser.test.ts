import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { makeApp, PASSWORD, type TestApp } from '../helpers/fixture.ts';
import { browserMissing, launchBrowser } from '../helpers/browser.ts';
import { withDelivery } from '../helpers/delivery.ts';

// The console in a real browser: Debian's Chromium driven by playwright-core. CI installs
// Chromium (.ci/run) and never lets these tests skip.
/** Screenshots of every page, kept as the run's artifacts. */
const SHOTS = path.resolve('test-artifacts/console');

const missing = browserMissing();
if (missing) {
  if (process.env.CI || process.env.CALLBOARD_REQUIRE_BROWSER) t.fail(`browser tests cannot run: ${missing}`);
  else t.test('the console in a browser', { skip: `no browser here: ${missing}` }, async () => {});
} else {
  run();
}

function run() {
  let ctx: TestApp;
  let base: string;
  let close: () => Promise<void>;
  let page: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];

  t.before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    ctx = await makeApp('console-browser', 4000, undefined, withDelivery());
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(ctx.app.server.address() as { port: number }).port}`;
    const b = await launchBrowser();
    close = b.close;
    const context = await b.browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, timezoneId: 'UTC' });
    page = await context.newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  t.teardown(async () => {
    await close?.();
    await ctx?.close();
  });

  const api = async (url: string) => (await ctx.get(url, 'acct1@test')).body;
  const params = () => new URL(page.url()).searchParams;

  t.test('sign in', async (t) => {
    await page.goto(`${base}/`);
    await page.screenshot({ path: path.join(SHOTS, 'sign-in.png') });
    await page.fill('#email', 'acct1@test');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\/telesales/);
    t.match(await page.textContent('h1'), /Telesales overview/);
    t.match(await page.textContent('#freshness'), /Data as of/);
  });

  t.test('picking a preset changes the URL and the view', async (t) => {
    await page.selectOption('#range', 'last_7_days');
    await page.waitForURL(/range=last_7_days/);
    t.equal(params().get('range'), 'last_7_days');
    t.equal(await page.inputValue('#date_from'), '2027-01-04');
    t.equal(await page.inputValue('#date_to'), '2027-01-10');
  });

  t.test('the chart has as many points as the API has buckets', async (t) => {
    for (const g of ['day', 'hour', 'week']) {
      await page.goto(`${base}/console/telesales?range=last_30_days&timezone=America/New_York&group_by=${g}`);
      await page.waitForFunction(() => (document.getElementById('ts-chart') as unknown as { uplot?: unknown }).uplot !== undefined);
      const points = await page.evaluate(() => (document.getElementById('ts-chart') as unknown as { uplot: { data: number[][] } }).uplot.data.map((s) => s.length));
      const series = (await api(`/api/telesales/reports/time-series?date_from=2026-12-12&date_to=2027-01-10&timezone=America/New_York&group_by=${g}`)).data;
      t.equal(points[0], series.length, `${g}: one point per bucket`);
      const dials = await page.evaluate(() => (document.getElementById('ts-chart') as unknown as { uplot: { data: number[][] } }).uplot.data[1]);
      t.strictSame(dials, series.map((b: { dials: number }) => b.dials), `${g}: the API's dials`);
    }
    await page.screenshot({ path: path.join(SHOTS, 'telesales.png'), fullPage: true });
  });

  t.test('the heatmap\'s 168 cells carry the API\'s values', async (t) => {
    await page.goto(`${base}/console/telesales?date_from=2026-12-01&date_to=2027-01-09&timezone=Europe/London`);
    const cells = await page.$$eval('#heatmap td', (tds) => tds.map((td) => ({ dow: Number(td.getAttribute('data-dow')), hour: Number(td.getAttribute('data-hour')), rate: Number(td.getAttribute('data-rate')), text: td.textContent, dials: Number(td.getAttribute('data-dials')) })));
    const heat = (await api('/api/telesales/reports/hour-dow-heatmap?date_from=2026-12-01&date_to=2027-01-09&timezone=Europe/London')).data;
    t.equal(cells.length, 168);
    t.strictSame(cells.map((c) => [c.dow, c.hour, c.rate]), heat.map((h: { day_of_week: number; hour: number; answer_rate_pct: number }) => [h.day_of_week, h.hour, h.answer_rate_pct]));
    t.strictSame(cells.map((c) => c.text), heat.map((h: { dials: number; answer_rate_pct: number }) => (h.dials ? String(h.answer_rate_pct) : '')), 'the rate is printed in each cell with dials');
    t.equal(await page.textContent('#heatmap tbody tr:first-child th'), 'Sunday');
  });

  t.test('a download button yields the API\'s export of the same view', async (t) => {
    await page.goto(`${base}/console/telesales?date_from=2026-12-15&date_to=2027-01-05&timezone=Asia/Kathmandu`);
    const link = page.locator('#agents-title').locator('xpath=..').locator('a', { hasText: 'CSV' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = fs.readFileSync((await download.path())!, 'utf8');
    const res = await ctx.app.inject({
      method: 'GET', url: '/api/telesales/reports/agent-performance/export?date_from=2026-12-15&date_to=2027-01-05&timezone=Asia/Kathmandu&format=csv',
      headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` },
    });
    t.equal(res.statusCode, 200);
    t.equal(file, res.body, 'the same bytes');
    t.equal(download.suggestedFilename(), /filename="([^"]+)"/.exec(String(res.headers['content-disposition']))![1]);
  });

  t.test('switching the time zone moves the buckets', async (t) => {
    const chartDials = () => page.evaluate(() => (document.getElementById('ts-chart') as unknown as { uplot: { data: number[][] } }).uplot.data[1]);
    await page.goto(`${base}/console/telesales?range=last_7_days&timezone=UTC&group_by=hour`);
    const utc = await chartDials();
    await page.selectOption('#timezone', 'Asia/Kathmandu');
    await Promise.all([page.waitForURL(/timezone=Asia%2FKathmandu/), page.click('#filters button[type=submit]')]);
    t.equal(params().get('range'), 'last_7_days', 'the preset stays');
    // 12:00 UTC on the 10th is 17:45 in Kathmandu: the same seven local days, shifted 5 h 45 min.
    const series = (await api('/api/telesales/reports/time-series?date_from=2027-01-04&date_to=2027-01-10&timezone=Asia/Kathmandu&group_by=hour')).data;
    const buckets = await page.$$eval('#ts-table tbody td:first-child', (tds) => tds.map((td) => td.textContent));
    t.strictSame(buckets, series.map((b: { bucket: string }) => b.bucket), 'the buckets of those days in Kathmandu');
    const ktm = await chartDials();
    t.strictSame(ktm, series.map((b: { dials: number }) => b.dials), 'the chart draws them');
    t.notSame(ktm, utc, 'the calls fall in other hours than in UTC');
    t.equal(ktm.reduce((a, b) => a + b, 0) > 0, true);
  });

  t.test('the 90-day rule is shown before it is broken', async (t) => {
    await page.goto(`${base}/console/telesales?range=last_30_days&timezone=UTC`);
    t.ok(await page.isHidden('#date_to-error'));
    await page.fill('#date_from', '2026-06-01');
    t.ok(await page.isVisible('#date_to-error'));
    t.match(await page.textContent('#date_to-error'), /may not exceed 90 days/);
    t.equal(await page.inputValue('#range'), 'custom');
    const before = page.url();
    await page.click('#filters button[type=submit]');
    t.equal(page.url(), before, 'the form is not sent while the range is too long');
  });

  t.test('keyboard-only navigation reaches every filter', async (t) => {
    await page.goto(`${base}/console/telesales?range=last_30_days&timezone=UTC`);
    const reached = new Set<string>();
    await page.focus('body');
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? el.id || (el.closest('#filters') && el.tagName === 'BUTTON' ? 'apply' : el.textContent?.trim() ?? '') : '';
      });
      reached.add(id);
    }
    for (const id of ['range', 'date_from', 'date_to', 'timezone', 'campaign_id', 'agent_ids', 'team_id', 'apply']) t.ok(reached.has(id), `${id} is reached with Tab`);
  });

  t.test('a wallboard reloads, and pauses while its tab is hidden', async (t) => {
    await page.goto(`${base}/console/telesales?range=today&timezone=UTC&refresh=5`);
    t.match(await page.textContent('#freshness'), /refreshes every 5 s/);
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 1;
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    });
    await page.waitForTimeout(6500);
    t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no reload while hidden');
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
        document.dispatchEvent(new Event('visibilitychange'));
      }),
    ]);
    t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), undefined, 'reloaded once visible again');
  });

  t.test('every page renders, and is saved as a screenshot', async (t) => {
    // A scheduled report, so the Delivery page shows its table.
    const sub = await ctx.app.inject({
      method: 'POST', url: '/api/subscriptions', headers: { authorization: `Bearer ${await ctx.token('acct1@test')}` },
      payload: { name: 'Weekly agents', report: 'telesales/agent-performance', window: 'last_7_days', cron: '0 7 * * 1', zone: 'America/New_York', format: 'xlsx', channels: [{ type: 'webhook', url: 'https://hooks.example.com/callboard' }] },
    });
    t.equal(sub.statusCode, 201, sub.body);
    for (const p of ['compliance', 'company', 'campaigns', 'billing', 'calls', 'delivery']) {
      const res = await page.goto(`${base}/console/${p}`);
      t.equal(res?.status(), 200, p);
      await page.screenshot({ path: path.join(SHOTS, `${p}.png`), fullPage: true });
    }
    t.strictSame(cspViolations, [], 'nothing the pages load breaks their Content Security Policy');
    t.strictSame(pageErrors, [], 'no script error');
  });
}
