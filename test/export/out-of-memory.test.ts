import t from 'tap';
import { buildApp } from '../../src/http/app.ts';
import type { ReportDeclaration } from '../../src/reports/declaration.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { FIXTURE_NOW, JWT_SECRET, makeApp } from '../helpers/fixture.ts';

// DuckDB refuses a query for want of memory while other work holds its limit (two exports
// at once under a small budget). The query runs again once the memory is back; when it
// never comes back, the answer is 503 with Retry-After, not 500.

const SQL = `SELECT count(*) AS n, sum(len(l)) AS s FROM (SELECT list(range) AS l FROM range(20000000))`;

const needsMemory: ReportDeclaration = {
  family: 'test', name: 'needs-memory', title: 'Needs memory', sql: '../test/sql/needs-memory.sql', params: ['format'],
  required: [], result: 'rows',
  columns: [{ key: 'n', label: 'N', type: { kind: 'integer' } }, { key: 's', label: 'S', type: { kind: 'integer' } }],
  endpoint: { path: '/api/test/reports/:report', auth: 'bearer', envelope: 'data' },
};

const ctx = await makeApp('out-of-memory', 200);
t.teardown(ctx.close);
const limit = (mib: number) => ctx.store.exec(`SET memory_limit = '${mib}MiB'`);
t.teardown(() => limit(1024));

t.test('a read DuckDB refuses for want of memory runs again once the memory is back', async (t) => {
  await limit(32);
  await t.rejects(ctx.store.withConnection((c) => c.run(SQL)), /^Out of Memory Error/, 'the query does not fit in 32 MiB');
  // The other work finishes (here: the limit goes up) shortly after the first refusal.
  const raised = new Promise<void>((done) => setTimeout(() => void limit(1024).then(done), 150));
  try {
    const [row] = await ctx.store.all(SQL);
    t.same({ n: Number(row.n), s: Number(row.s) }, { n: 1, s: 20_000_000 }, 'the whole list, computed on a later attempt');
  } finally {
    await raised;
  }
});

t.test('memory that never comes back gives 503 with Retry-After, naming the cause', async (t) => {
  const app = await buildApp({ store: ctx.store, meta: ctx.meta, jwtSecret: JWT_SECRET, now: () => FIXTURE_NOW, logLevel: 'silent', reports: [...reportCatalogue(), needsMemory] });
  t.teardown(() => app.close());
  const token = await ctx.token('admin@test');
  await limit(32);
  const res = await app.inject({ url: '/api/test/reports/needs-memory', headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 503, res.body);
  t.equal(res.headers['retry-after'], '10');
  t.match(res.json().message, /busy/);
  await limit(1024);
  const ok = await app.inject({ url: '/api/test/reports/needs-memory', headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.statusCode, 200, 'the same request once memory is free');
  t.same(ok.json().data, [{ n: 1, s: 20_000_000 }]);
});
