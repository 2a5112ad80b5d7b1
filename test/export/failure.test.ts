import http from 'node:http';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { buildApp } from '../../src/http/app.ts';
import type { ReportDeclaration } from '../../src/reports/declaration.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { FIXTURE_NOW, JWT_SECRET, makeApp } from '../helpers/fixture.ts';

// A paged report whose later pages fail: the error comes after the first rows went out.
const failing: ReportDeclaration = {
  family: 'test', name: 'fails-midway', title: 'Fails midway', sql: '../test/sql/fails-midway.sql', params: ['format', 'limit', 'cursor'],
  required: [], result: 'rows', keyset: { order: ['_k', 'n'], defaultLimit: 100, maxLimit: 1000, streamPage: 2000 },
  columns: [{ key: 'n', label: 'N', type: { kind: 'integer' } }, { key: 's', label: 'S', type: { kind: 'string' } }],
  endpoint: { path: '/api/test/reports/:report', auth: 'bearer', envelope: 'data' },
};

// The same, paged by time slices like the call detail, whose CSV DuckDB writes itself.
const failingWindow: ReportDeclaration = {
  ...failing, name: 'fails-midway-window', sql: '../test/sql/fails-midway-window.sql',
  keyset: { ...failing.keyset!, slices: '../test/sql/fails-midway-window-slices.sql' },
  params: ['date_from', 'date_to', 'timezone', 'format', 'limit', 'cursor'],
};

const ctx = await makeApp('failure', 500);
t.teardown(ctx.close);

for (const [report, query] of [['fails-midway', ''], ['fails-midway-window', '&date_from=2026-11-01&date_to=2026-11-30']]) {
  t.test(`a store error after the first rows aborts the download and is logged with the request id (${report})`, async (t) => {
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    const app = await buildApp({
      store: ctx.store, meta: ctx.meta, jwtSecret: JWT_SECRET, now: () => FIXTURE_NOW, logLevel: 'error', logStream: logs,
      reports: [...reportCatalogue(), failing, failingWindow],
    });
    t.teardown(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const token = await ctx.token('admin@test');
    const result = await new Promise<{ status: number; bytes: number; complete: boolean; error: string | null }>((resolve) => {
      const req = http.get({ port, path: `/api/test/reports/${report}?format=csv${query}`, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let bytes = 0;
        let error: string | null = null;
        res.on('data', (c: Buffer) => { bytes += c.length; });
        res.on('error', (e) => (error = e.message));
        res.on('close', () => resolve({ status: res.statusCode!, bytes, complete: res.complete, error }));
      });
      req.on('error', () => undefined);
    });
    t.equal(result.status, 200, 'the download had started');
    t.ok(result.bytes > 100, 'rows were sent before the failure');
    t.notOk(result.complete, 'the response was aborted, not ended: the client sees a failed download');
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; reqId?: string; err?: { message: string } }).find((l) => /export failed/.test(l.msg));
    t.ok(logged, 'the failure is logged');
    t.match(logged?.reqId, /^req-/, 'with the request id');
    t.match(logged?.err?.message, /boom/);
  });
}
