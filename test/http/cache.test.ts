import Database from 'better-sqlite3';
import t from 'tap';
import { connectSource } from '../../src/source/connect.ts';
import { syncOnce } from '../../src/sync/sync.ts';
import { makeApp } from '../helpers/fixture.ts';
import { Oracle } from '../helpers/oracle.ts';

// The result cache: an identical question is answered from it (X-Cache: hit), never
// across tenants, and never with an answer older than the last committed change.
const ctx = await makeApp('cache', 3000);
t.teardown(ctx.close);
const URL = '/api/telesales/reports/dashboard?date_from=2026-11-01&date_to=2026-11-30&timezone=UTC';
const get = async (email: string, url = URL) => {
  const res = await ctx.app.inject({ url, headers: { authorization: `Bearer ${await ctx.token(email)}` } });
  return { status: res.statusCode, cache: res.headers['x-cache'], body: res.json(), type: res.headers['content-type'] };
};

t.test('the same question twice: a miss, then a hit with the same answer', async (t) => {
  const first = await get('acct1@test');
  const second = await get('acct1@test');
  t.equal(first.cache, 'miss');
  t.equal(second.cache, 'hit');
  t.strictSame(second.body, first.body);
  t.equal(second.type, first.type, 'the same content type');
  t.equal((await get('acct1@test', `${URL}&campaign_id=${first.body.data ? 1 : 1}`)).cache, 'miss', 'another parameter is another question');
});

t.test('identical questions arriving together are computed once', async (t) => {
  const url = '/api/telesales/reports/dashboard?date_from=2026-10-01&date_to=2026-10-31&timezone=Europe/Paris';
  const token = await ctx.token('acct1@test');
  const all = ctx.store.all.bind(ctx.store);
  let queries = 0;
  ctx.store.all = async (...args: Parameters<typeof all>) => {
    if (args[0].includes('Overall KPIs')) queries++;
    return all(...args);
  };
  try {
    const answers = await Promise.all(Array.from({ length: 12 }, () => ctx.app.inject({ url, headers: { authorization: `Bearer ${token}` } })));
    t.equal(queries, 1, 'one query for twelve requests');
    t.same(answers.map((a) => a.statusCode), Array(12).fill(200));
    t.equal(answers.filter((a) => a.headers['x-cache'] === 'miss').length, 1, 'one miss, the others hits');
    t.ok(answers.every((a) => a.body === answers[0].body), 'one answer');
  } finally {
    ctx.store.all = all;
  }
});

t.test('never across tenants: the same URL for another account is computed for it', async (t) => {
  const mine = await get('acct1@test');
  const theirs = await get('acct2@test');
  t.equal(theirs.cache, 'miss', 'account 2 does not get account 1\'s answer');
  t.notSame(theirs.body, mine.body, 'and its own figures differ');
  t.equal((await get('acct2@test')).cache, 'hit');
  t.strictSame((await get('acct1@test')).body, mine.body);
});

t.test('a sync that changes the data: the next answer is computed again, with the change', async (t) => {
  const before = await get('admin@test');
  t.equal((await get('admin@test')).cache, 'hit');
  const db = new Database(ctx.sourceFile);
  const { at } = db.prepare(`SELECT max(updated_at) AS at FROM calls`).get() as { at: string };
  const changed = db.prepare(`UPDATE calls SET talk_sec = talk_sec + 100, updated_at = ? WHERE answered_at IS NOT NULL AND started_at >= '2026-11-01' AND started_at < '2026-11-30' AND id % 7 = 0`)
    .run(new Date(Date.parse(at) + 60_000).toISOString()).changes;
  db.close();
  t.ok(changed > 0);
  const source = connectSource(`sqlite:${ctx.sourceFile}`);
  try {
    await syncOnce(ctx.store, source);
  } finally {
    await source.close();
  }
  const after = await get('admin@test');
  t.equal(after.cache, 'miss', 'the data version moved on');
  // The figures of the changed source, counted in TypeScript.
  const oracle = new Oracle(ctx.sourceFile);
  const accounts = [...new Set(oracle.calls.map((c) => c.account_id))];
  const expected = oracle.dashboard({ accounts, from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z'), tz: 'UTC' });
  t.equal(after.body.data.total_talk_time_sec, expected.total_talk_time_sec, 'with the change in it');
  t.not(after.body.data.total_talk_time_sec, before.body.data.total_talk_time_sec);
});

t.test('reports that read the clock are never cached; files say miss', async (t) => {
  const dash = '/api/v1/dashboard/?days=7';
  await get('admin@test', dash);
  t.equal((await get('admin@test', dash)).cache, 'miss', 'the last 7 × 24 h move with the clock');
  const res = await ctx.app.inject({ url: `${URL}&format=csv`, headers: { authorization: `Bearer ${await ctx.token('admin@test')}` } });
  t.equal(res.headers['x-cache'], 'miss');
});
