import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { tmpDir } from '../helpers/fixture.ts';

// No answer before the data exists: while the first sync of an empty store runs, every
// report answers 503 with its progress, /readyz too, and the banner shows the progress and
// gives the login line only once the data is there. A real server, with small batches so
// the first sync takes a while.
const dir = tmpDir('first-sync');
const env = {
  ...process.env, CALLBOARD_DATA_DIR: dir, CALLBOARD_DEMO_CALLS: '20000', CALLBOARD_SYNC_BATCH: '400', PORT: '0',
  CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn',
};
const server = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
server.stdout.on('data', (d) => (out += d));
server.stderr.on('data', (d) => (out += d));
t.teardown(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | null> | T | null, ms = 120_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 25))) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${out}`);
  }
}

t.test('reports and /readyz answer 503 with the progress until the first sync is done', async (t) => {
  const { port } = await until('server.json', () => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'server.json'), 'utf8')) as { port: number };
    } catch {
      return null;
    }
  });
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/accounts/login/`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@callboard.local', password: 'callboard-demo' }),
  });
  t.equal(login.status, 200, 'the demo users can log in while the data loads');
  const token = ((await login.json()) as { data: { token: { access: string } } }).data.token.access;
  const auth = { authorization: `Bearer ${token}` };
  const reports = [
    '/api/telesales/reports/dashboard?date_from=2026-01-01&date_to=2026-01-31', '/api/calls?date_from=2026-01-01&date_to=2026-01-02&format=csv',
    '/api/v1/dashboard/', '/api/widgets/data?type=call_totals', '/api/system/campaigns/report/summary/', '/api/billing/reconciliation?month=2026-01',
  ];
  // Mid-load: a row count above zero, below the total.
  const ready = await until('a first sync under way', async () => {
    const r = await fetch(`${base}/readyz`);
    const body = (await r.json()) as { first_sync: { rows: number; total: number } | null; message: string };
    return r.status === 503 && body.first_sync && body.first_sync.rows > 0 ? { r, body } : null;
  });
  t.equal(ready.r.headers.get('retry-after'), '10');
  t.match(ready.body.message, /^The first sync is in progress \([\d,]+ of about [\d,]+ rows\)\.$/);
  t.ok(ready.body.first_sync!.total > ready.body.first_sync!.rows, 'of about the source\'s size');
  let during = 0;
  for (const url of reports) {
    const r = await fetch(`${base}${url}`, { headers: auth });
    if (r.status === 200) break; // the load finished in between
    during++;
    t.equal(r.status, 503, url);
    t.equal(r.headers.get('retry-after'), '10');
    t.match(((await r.json()) as { message: string }).message, /^The first sync is in progress \([\d,]+ of about [\d,]+ rows\)\.$/, url);
  }
  t.ok(during >= 1, 'reports were asked during the load');
  t.notMatch(out, /Log in and fetch a report/, 'no login line before the data is there');

  await until('the first sync', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : null));
  for (const url of reports) t.equal((await fetch(`${base}${url}`, { headers: auth })).status, 200, `${url} once the data is there`);
  await until('the banner', () => (/Log in and fetch a report/.test(out) ? true : null), 10_000);
  t.match(out, /First sync: [\d,]+ of about [\d,]+ rows \(\d+%\) …/, 'progress lines while it loads (not a terminal)');
  t.ok(out.indexOf('First sync done') < out.indexOf('Log in and fetch a report'), 'the login line comes after the data');
});
