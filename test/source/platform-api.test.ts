import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { startFakePlatform } from '../../fixtures/fake-platform.ts';
import { syncPlatform } from '../../src/sync/platform-sync.ts';
import { parsePlatformUrl } from '../../src/source/platform-url.ts';
import { Store } from '../../src/store/duckdb.ts';
import { makeSource, sourceRows, tmpDir } from '../helpers/fixture.ts';

const dir = tmpDir('platform');
const sourceFile = await makeSource(dir, 2000);
const platform = await startFakePlatform({ sourceFile, accountId: 1, email: 'api@acme.test', password: 'secret-pass', accessTtlSec: 2, pageSize: 7 });
const store = await Store.open(path.join(dir, 'store.duckdb'));
t.teardown(async () => {
  await platform.close();
  await store.close();
});
const src = parsePlatformUrl(`platform+${platform.url.replace('http://', 'http://api%40acme.test:secret-pass@')}/?account_id=1`);
const waits: number[] = [];
const opts = { refreshAheadSec: 0, sleep: async (ms: number) => void waits.push(ms) };

/** What the API shows, from the source rows: the numbers of account 1's broadcast campaigns. */
function expected() {
  const campaigns = sourceRows(sourceFile, 'campaigns').filter((c) => c.account_id === 1 && c.deleted_at === null && ['voice_broadcast', 'sms'].includes(c.type));
  const ids = new Set(campaigns.map((c) => c.id));
  const calls = sourceRows(sourceFile, 'calls');
  const leads = sourceRows(sourceFile, 'leads').filter((l) => ids.has(l.campaign_id) && l.deleted_at === null).map((l) => {
    const own = calls.filter((c) => c.lead_id === l.id).sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at) || b.id - a.id);
    return { id: l.id, phone: l.phone, called: own.length > 0, credits: own.reduce((s, c) => s + Number(c.credits), 0), talk: own[0]?.talk_sec ?? null };
  });
  return { campaigns, leads };
}

t.test('a full sync through the API: every page of campaigns and numbers', async (t) => {
  const want = expected();
  t.ok(want.campaigns.length >= 2 && want.leads.length > 7, 'several pages of numbers');
  const r = await syncPlatform(store, src, opts);
  t.equal(r.rejected, 0);
  t.equal(r.tables.campaigns.upserted, want.campaigns.length);
  t.equal(r.tables.leads.upserted, want.leads.length);
  t.equal(r.tables.calls.upserted, want.leads.filter((l) => l.called).length, 'a call per attempted number');
  t.ok(platform.counts.numbers > want.campaigns.length, 'number lists were paged');
  const stored = new Map((await store.all(`SELECT l.id, l.phone, c.credits::DOUBLE AS credits, c.talk_sec FROM leads l LEFT JOIN calls c ON c.id = l.id WHERE l.account_id = 1`)).map((r) => [Number(r.id), r]));
  let bad = 0;
  for (const l of want.leads) {
    const s = stored.get(l.id);
    const ok = s && s.phone === l.phone && (l.called ? Math.abs(Number(s.credits) - l.credits) < 1e-9 : s.credits === null);
    if (!ok && bad++ < 3) t.fail(`lead ${l.id}: ${JSON.stringify(s)} vs ${JSON.stringify(l)}`);
  }
  t.equal(bad, 0, 'every number as a lead, and its call');
  const again = await syncPlatform(store, src, opts);
  t.equal(again.upserted, 0, 'a second sync changes nothing');
});

t.test('an expired access token is refreshed; 429 waits for Retry-After; 5xx are retried', async (t) => {
  await new Promise((r) => setTimeout(r, 2500)); // the access token of the last run expires
  const before = { ...platform.counts };
  platform.faults.tooMany = { count: 2, retryAfterSec: 3 };
  waits.length = 0;
  const r = await syncPlatform(store, src, { ...opts });
  t.equal(r.upserted, 0);
  t.equal((platform.counts['429'] ?? 0) - (before['429'] ?? 0), 2);
  t.strictSame(waits.slice(0, 2), [3000, 3000], 'waited as Retry-After said');

  // A client whose token expires between requests: the 401 leads to a refresh, then the request again.
  await new Promise((r) => setTimeout(r, 2100));
  platform.faults.unavailable = 3;
  const loginsBefore = platform.counts.login ?? 0;
  const r2 = await syncPlatform(store, src, { ...opts, refreshAheadSec: 0 });
  t.equal(r2.api.retried, 3, 'three 503s retried');
  t.ok((platform.counts.login ?? 0) > loginsBefore, 'a fresh login for the new run');
});

t.test('a client refreshes its token before it expires and after a 401', async (t) => {
  const { PlatformClient } = await import('../../src/source/platform-api.ts');
  const client = new PlatformClient(src, { refreshAheadSec: 5, sleep: async () => undefined });
  await client.get('/api/system/campaigns/?page=1');
  await client.get('/api/system/campaigns/?page=1');
  t.ok(client.stats.refreshes >= 1, 'a token that expires within 5 s is refreshed ahead');
  const lazy = new PlatformClient(src, { refreshAheadSec: 0, sleep: async () => undefined });
  await lazy.get('/api/system/campaigns/?page=1');
  const before401 = platform.counts['401'] ?? 0;
  platform.faults.unauthorized = 1; // the platform no longer takes the token it gave
  await lazy.get('/api/system/campaigns/?page=1');
  t.equal((platform.counts['401'] ?? 0) - before401, 1, 'the token met one 401');
  t.equal(lazy.stats.refreshes, 1, 'then a refresh, and the request again');
});

t.test('a platform down for three runs, then back with a change: nothing lost, nothing twice', async (t) => {
  platform.faults.down = true;
  for (let i = 0; i < 3; i++) await t.rejects(syncPlatform(store, src, { ...opts, retries: 2 }), /answered 503/);
  platform.faults.down = false;
  const want = expected();
  const target = want.leads.find((l) => l.called)!;
  const db = new Database(sourceFile);
  db.prepare(`UPDATE calls SET talk_sec = talk_sec + 7, status = 'completed' WHERE id = (SELECT id FROM calls WHERE lead_id = ? ORDER BY started_at DESC, id DESC LIMIT 1)`).run(target.id);
  db.close();
  const r = await syncPlatform(store, src, opts);
  t.equal(r.tables.leads.upserted, 1, 'exactly the changed number');
  t.equal(r.tables.calls.upserted, 1);
  const [dup] = await store.all(`SELECT count(*) - count(DISTINCT id) AS d FROM calls`);
  t.equal(Number(dup.d), 0);
  const [leadCount] = await store.all(`SELECT count(*) AS n FROM leads`);
  t.equal(Number(leadCount.n), want.leads.length, 'nothing lost');
});

t.test('platform source URLs', async (t) => {
  t.throws(() => parsePlatformUrl('platform+https://host/?account_id=1'), /EMAIL:PASSWORD/);
  t.throws(() => parsePlatformUrl('platform+https://a:b@host/'), /account_id/);
  t.strictSame(parsePlatformUrl('platform+https://me%40x.io:pw@api.example.com/?account_id=4'), { baseUrl: 'https://api.example.com', email: 'me@x.io', password: 'pw', accountId: 4 });
});

t.test('the sync job takes a platform+ source URL', async (t) => {
  const { SyncJob } = await import('../../jobs/sync.ts');
  const { openMeta } = await import('../../src/meta/db.ts');
  const meta = await openMeta(':memory:');
  const url = `platform+${platform.url.replace('http://', 'http://api%40acme.test:secret-pass@')}/?account_id=1`;
  const r = await new SyncJob(store, meta, url).run();
  t.equal(r.upserted, 0, 'up to date');
  const runs = await meta.selectFrom('job_runs').selectAll().execute();
  t.equal(runs[0].status, 'ok');
  await meta.destroy();
});
