import http from 'node:http';
import path from 'node:path';
import t from 'tap';
import { budgetShares, loadConfig, storeMemory } from '../../src/config/config.ts';
import { ExportGate } from '../../src/export/gate.ts';
import { buildApp } from '../../src/http/app.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { Store } from '../../src/store/duckdb.ts';
import { FIXTURE_NOW, JWT_SECRET, makeApp, makeSource, sourceRows, tmpDir } from '../helpers/fixture.ts';
import { SyncJob } from '../../jobs/sync.ts';
import { openMeta } from '../../src/meta/db.ts';

// The memory budget: CALLBOARD_MEMORY_LIMIT sets DuckDB's limit and spill folder, and
// exports beyond their concurrency wait in a queue, then get 503 with Retry-After.

t.test('CALLBOARD_MEMORY_LIMIT gives DuckDB 3/16 of the budget, at least 192 MiB, and a spill folder', async (t) => {
  const dir = tmpDir('budget');
  const config = loadConfig({ CALLBOARD_DATA_DIR: dir, CALLBOARD_MEMORY_LIMIT: '768MiB' });
  t.equal(config.memoryLimit, 768 * 2 ** 20);
  t.equal(config.exportConcurrency, 1, 'one export at once per 512 MiB, at least one');
  const duckdb = (budget: number) => budgetShares(budget).duckdb / 2 ** 20;
  t.equal(duckdb(2 ** 30), 192, '3/16 of 1 GiB');
  t.equal(duckdb(4 * 2 ** 30), 768, '3/16 of 4 GiB');
  t.equal(duckdb(512 * 2 ** 20), 192, 'at least 192 MiB');
  t.same(budgetShares(2 ** 30).firstLoad, { load: 320 * 2 ** 20, rebuild: 384 * 2 ** 20 }, 'a first load: 5/16 and 3/8 of the budget');
  t.same(budgetShares(512 * 2 ** 20).firstLoad, { load: 256 * 2 ** 20, rebuild: 256 * 2 ** 20 }, 'never below 256 MiB');
  t.same(budgetShares(8 * 2 ** 30).firstLoad, { load: 2560 * 2 ** 20, rebuild: 3072 * 2 ** 20 }, 'the same shares of a larger budget');
  t.equal(loadConfig({ CALLBOARD_DATA_DIR: dir }).memoryLimit, 2 ** 30, '1 GiB by default');
  t.equal(loadConfig({ CALLBOARD_DATA_DIR: dir }).exportConcurrency, 2);
  t.equal(loadConfig({ CALLBOARD_DATA_DIR: dir, CALLBOARD_MEMORY_LIMIT: '2GB' }).memoryLimit, 2e9);
  for (const bad of ['lots', '1TBx', '100MiB', '256MiB']) t.throws(() => loadConfig({ CALLBOARD_DATA_DIR: dir, CALLBOARD_MEMORY_LIMIT: bad }), /CALLBOARD_MEMORY_LIMIT/, bad);
  const store = await Store.open(path.join(dir, 'store.duckdb'), storeMemory(config));
  try {
    const [s] = await store.all(`SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS d`);
    t.equal(String(s.m), '192.0 MiB', `DuckDB's memory_limit is 192 MiB of a 768 MiB budget: ${String(s.m)}`);
    t.equal(s.d, path.join(dir, 'duckdb-tmp'));
  } finally {
    await store.close();
  }
});

t.test('exports beyond their concurrency wait, then get 503 with Retry-After', async (t) => {
  const ctx = await makeApp('budget-gate', 20_000);
  t.teardown(ctx.close);
  const gate = new ExportGate(1, 1);
  const app = await buildApp({
    store: ctx.store, meta: ctx.meta, jwtSecret: JWT_SECRET, reports: reportCatalogue(), now: () => FIXTURE_NOW, logLevel: 'silent',
    exports: { gate, sliceRows: 500 },
  });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const token = await ctx.token('admin@test');
  const path = '/api/calls?date_from=2026-10-15&date_to=2027-01-10&format=csv';
  // A download whose client reads its first bytes and then stops reading: it holds its slot.
  const open = () => new Promise<{ status: number; req: http.ClientRequest; res: http.IncomingMessage; retryAfter?: string; body: Promise<string> }>((resolve) => {
    const req = http.get({ port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      const body = new Promise<string>((done) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(Buffer.concat(chunks).toString()));
        res.on('close', () => done(Buffer.concat(chunks).toString()));
      });
      res.once('data', () => res.pause());
      resolve({ status: res.statusCode!, req, res, retryAfter: res.headers['retry-after'] as string | undefined, body });
    });
    req.on('error', () => undefined);
  });
  const first = await open();
  t.equal(first.status, 200, 'the first export runs');
  t.equal(gate.inFlight, 1);
  let secondStarted = false;
  const second = open().then((r) => { secondStarted = true; return r; });
  for (let i = 0; i < 50 && gate.queued < 1; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(gate.queued, 1, 'the second waits in the queue');
  t.notOk(secondStarted, 'and has no answer yet');
  const third = await open();
  t.equal(third.status, 503, 'the third finds the queue full');
  t.equal(third.retryAfter, '60');
  t.match(JSON.parse(await third.body).message, /exports are being written/);
  first.res.resume();
  await first.body;
  const next = await second;
  t.equal(next.status, 200, 'the second runs once the first is done');
  next.res.resume();
  const text = await next.body;
  t.ok(text.split('\r\n').length > 1000, 'and is whole');
  for (let i = 0; i < 50 && gate.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(gate.inFlight, 0, 'every slot is given back');
});

t.test('a sync larger than the budget goes on without DuckDB\'s limit, which comes back after', async (t) => {
  const dir = tmpDir('budget-sync');
  const sourceFile = await makeSource(dir, 30_000);
  const store = await Store.open(path.join(dir, 'store.duckdb'), { memoryLimit: 24 * 2 ** 20, tempDir: path.join(dir, 'tmp') });
  const meta = await openMeta(path.join(dir, 'meta.db'));
  try {
    const r = await new SyncJob(store, meta, `sqlite:${sourceFile}`).run() as Awaited<ReturnType<SyncJob['run']>> & { over_budget?: string };
    t.match(r.over_budget, /Out of Memory Error/, 'the load needed more than 24 MiB, and says so');
    const [calls] = await store.all(`SELECT count(*) AS n FROM calls`);
    t.equal(Number(calls.n), sourceRows(sourceFile, 'calls').length, 'every call is loaded');
    const [s] = await store.all(`SELECT current_setting('memory_limit') AS m`);
    t.match(String(s.m), /^24\.0 MiB$/, `the limit is back: ${String(s.m)}`);
  } finally {
    await store.close();
    await meta.destroy();
  }
});
