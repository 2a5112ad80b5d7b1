import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { generateSource } from '../../fixtures/generate.ts';
import { connectSource } from '../../src/source/connect.ts';
import { SOURCE_TABLES } from '../../src/source/contract.ts';
import { Store } from '../../src/store/duckdb.ts';
import { syncOnce } from '../../src/sync/sync.ts';
import { readSourceIdentity } from '../../src/source/identity.ts';
import { estimateSourceRows } from '../../src/source/reader.ts';
import { sql } from 'kysely';
import { FIXTURE_NOW, tmpDir } from '../helpers/fixture.ts';
import { SyncJob } from '../../jobs/sync.ts';
import { openMeta } from '../../src/meta/db.ts';

// A real PostgreSQL server: .ci/postgres starts one (CI always does); elsewhere these
// tests skip, loudly, when none answers.
const ADMIN_URL = process.env.CALLBOARD_TEST_PG || 'postgres://callboard:callboard@127.0.0.1:5432/postgres';
const REQUIRED = process.env.CALLBOARD_REQUIRE_PG === '1';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await reachable();
if (problem) {
  if (REQUIRED) {
    t.fail(`PostgreSQL is required here (CALLBOARD_REQUIRE_PG=1) but ${ADMIN_URL} does not answer: ${problem}`);
  } else {
    const notice = `PostgreSQL source tests SKIPPED: no server at ${ADMIN_URL} (${problem}). Start one with: export CALLBOARD_TEST_PG=$(.ci/postgres)`;
    console.error(`\n${'!'.repeat(notice.length)}\n${notice}\n${'!'.repeat(notice.length)}\n`);
    t.test(notice, { skip: notice }, () => undefined);
  }
} else {
  await run();
}

async function run(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbName = `callboard_test_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const pgUrl = url.toString();
  const dir = tmpDir('postgres');
  const sqliteFile = path.join(dir, 'source.db');
  const stores: Store[] = [];
  t.teardown(async () => {
    for (const s of stores) await s.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  // The same generated source in both databases.
  const gen = { calls: 1500, now: FIXTURE_NOW, days: 120, seed: 11 };
  await generateSource({ url: pgUrl, ...gen });
  await generateSource({ url: `sqlite:${sqliteFile}`, ...gen });

  const syncFrom = async (sourceUrl: string, store: Store) => {
    const source = connectSource(sourceUrl);
    try {
      return await syncOnce(store, source, { batchSize: 400 });
    } finally {
      await source.close();
    }
  };
  const fromPg = await Store.open(path.join(dir, 'pg.duckdb'));
  const fromSqlite = await Store.open(path.join(dir, 'sqlite.duckdb'));
  stores.push(fromPg, fromSqlite);

  t.test('a PostgreSQL source syncs into exactly the store a SQLite source gives', async (t) => {
    const a = await syncFrom(pgUrl, fromPg);
    const b = await syncFrom(`sqlite:${sqliteFile}`, fromSqlite);
    t.equal(a.rejected, 0);
    t.equal(a.upserted, b.upserted, `${a.upserted} rows from each`);
    for (const table of [...SOURCE_TABLES.map((x) => x.name), 'call_slots', 'lead_activity']) {
      const order = table === 'call_slots' ? 'account_id, slot15, campaign_id, agent_id' : table === 'lead_activity' ? 'lead_id' : 'id';
      const q = `SELECT * FROM ${table} ORDER BY ${order}`;
      const [x, y] = [await fromPg.all(q), await fromSqlite.all(q)];
      t.equal(x.length, y.length, `${table}: same row count`);
      t.same(x, y, `${table}: same rows`);
    }
    t.equal((await syncFrom(pgUrl, fromPg)).upserted, 0, 'a second run changes nothing');
  });

  t.test('PostgreSQL and SQLite copies of one source have one identity; its size is estimated', async (t) => {
    const [x, y] = [await readSourceIdentity(pgUrl), await readSourceIdentity(`sqlite:${sqliteFile}`)];
    t.match(x.fingerprint, /^[0-9a-f]{16}$/);
    t.equal(x.fingerprint, y.fingerprint, 'the same first account in both');
    t.notMatch(x.url, /callboard:callboard@/, 'no credentials in the URL');
    const source = connectSource(pgUrl);
    try {
      await sql`ANALYZE`.execute(source.db);
      const estimate = await estimateSourceRows(source, SOURCE_TABLES);
      const exact = (await fromSqlite.all(`SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM leads) AS n`))[0].n as number;
      t.ok(estimate >= exact, `the planner's estimate (${estimate}) covers at least the calls and leads (${exact})`);
    } finally {
      await source.close();
    }
  });

  t.test('a late change in PostgreSQL arrives with the next sync; a bad row is quarantined', async (t) => {
    const src = new pg.Client({ connectionString: pgUrl });
    await src.connect();
    try {
      const { rows: [call] } = await src.query(`SELECT id FROM calls WHERE answered_at IS NOT NULL ORDER BY id LIMIT 1`);
      // Later than the watermark: the fixture's "now" is ahead of the clock.
      const { rows: [top] } = await src.query(`SELECT max(updated_at) + interval '1 hour' AS at FROM calls`);
      await src.query(`UPDATE calls SET talk_sec = 4321, updated_at = $2 WHERE id = $1`, [call.id, top.at]);
      const { rows: [max] } = await src.query(`SELECT max(id) AS id FROM calls`);
      // A status outside the contract's domain.
      await src.query(`INSERT INTO calls (id, account_id, campaign_id, lead_id, agent_id, caller_id_id, direction, product, from_number, to_number,
          origin, attribution, status, started_at, answered_at, ended_at, talk_sec, wrap_sec, message_sec, playback_sec, disposition_code, credits, cost, updated_at)
        SELECT $2::bigint, account_id, campaign_id, lead_id, agent_id, caller_id_id, direction, product, from_number, to_number,
          origin, attribution, 'lost', started_at, answered_at, ended_at, talk_sec, wrap_sec, message_sec, playback_sec, disposition_code, credits, cost, $3::timestamptz
        FROM calls WHERE id = $1`, [call.id, Number(max.id) + 1, top.at]);
      const r = await syncFrom(pgUrl, fromPg);
      t.equal(r.tables.calls.upserted, 1, 'the changed call');
      t.equal(r.rejected, 1, 'the bad row is counted');
      t.equal(Number((await fromPg.all(`SELECT talk_sec FROM calls WHERE id = $id`, { id: call.id }))[0].talk_sec), 4321);
      const rejects = await fromPg.all(`SELECT reason, source_id FROM rejects WHERE table_name = 'calls'`);
      t.equal(rejects.length, 1);
      t.match(String(rejects[0].reason), /status/);
    } finally {
      await src.end();
    }
  });

  t.test('a statement the server holds up fails the run at the statement timeout, and the next run loads', async (t) => {
    // Another session holds an exclusive lock on calls: the sync's read of calls waits on it.
    const locker = new pg.Client({ connectionString: pgUrl });
    await locker.connect();
    const meta = await openMeta(path.join(dir, 'timeout-meta.db'));
    const store = await Store.open(path.join(dir, 'timeout.duckdb'));
    stores.push(store);
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE calls IN ACCESS EXCLUSIVE MODE');
      const job = new SyncJob(store, meta, pgUrl, { timeouts: { connectMs: 5_000, statementMs: 1_000, idleMs: 1_000 } });
      const started = Date.now();
      const failed = await job.run().then(() => null, (err: Error) => err);
      t.match(failed?.message, /statement timeout/, `failed after ${Date.now() - started} ms`);
      await locker.query('ROLLBACK');
      const r = await job.run();
      t.ok(r.upserted > 0, 'once the lock is gone, the sync loads');
    } finally {
      await locker.end();
      await meta.destroy();
    }
  });
}
