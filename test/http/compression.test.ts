import zlib from 'node:zlib';
import t from 'tap';
import ExcelJS from 'exceljs';
import { makeApp } from '../helpers/fixture.ts';
import { signIn } from '../helpers/console.ts';

// Pages, scripts and JSON answers go out compressed to a client that accepts it, and
// decompress to exactly what an uncompressed request gets; CSV and XLSX downloads and
// clients that accept no encoding get the bytes as they are.
const ctx = await makeApp('compression', 3000);
t.teardown(ctx.close);
const cookie = await signIn(ctx.app, 'acct1@test');
const bearer = `Bearer ${await ctx.token('acct1@test')}`;
const VIEW = 'date_from=2026-12-01&date_to=2027-01-09&timezone=America/New_York';

const decode: Record<string, (b: Buffer) => Buffer> = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync, deflate: zlib.inflateSync };

async function both(url: string, headers: Record<string, string>, encoding: string) {
  const plain = await ctx.app.inject({ method: 'GET', url, headers });
  const packed = await ctx.app.inject({ method: 'GET', url, headers: { ...headers, 'accept-encoding': encoding } });
  return { plain, packed };
}

for (const [what, url, headers] of [
  ['the overview page', `/console/telesales?${VIEW}`, { cookie }],
  ['uPlot', '/console/assets/uplot/uPlot.iife.min.js', {}],
  ['a JSON report', `/api/telesales/reports/hour-dow-heatmap?${VIEW}`, { authorization: bearer }],
] as const) {
  for (const encoding of ['br', 'gzip', 'deflate']) {
    t.test(`${what}, ${encoding}`, async (t) => {
      const { plain, packed } = await both(url, headers, encoding);
      t.equal(plain.statusCode, 200);
      t.equal(packed.statusCode, 200);
      t.equal(plain.headers['content-encoding'], undefined, 'no encoding asked, none given');
      t.equal(packed.headers['content-encoding'], encoding);
      t.match(String(packed.headers.vary), /accept-encoding/i);
      const body = decode[encoding](packed.rawPayload);
      t.ok(packed.rawPayload.length < plain.rawPayload.length / 2, `${plain.rawPayload.length} bytes sent as ${packed.rawPayload.length}`);
      if (what === 'the overview page') {
        // The page carries a fresh CSRF token per request: compare it without the token.
        const strip = (s: string) => s.replace(/name="_csrf" value="[^"]*"/g, '');
        t.equal(strip(body.toString('utf8')), strip(plain.body));
      } else {
        t.same(body, plain.rawPayload, 'the same bytes once decompressed');
      }
    });
  }
}

t.test('CSV and XLSX downloads are sent as they are', async (t) => {
  for (const format of ['csv', 'xlsx']) {
    const url = `/api/telesales/reports/agent-performance?${VIEW}&format=${format}`;
    const res = await ctx.app.inject({ method: 'GET', url, headers: { authorization: bearer, 'accept-encoding': 'br, gzip, deflate' } });
    t.equal(res.statusCode, 200, format);
    t.equal(res.headers['content-encoding'], undefined, `${format}: no content encoding`);
    if (format === 'csv') t.match(res.body.split('\n')[0], /agent/i, 'CSV text');
    else {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
      t.ok(wb.worksheets[0].rowCount > 1, 'a workbook with rows');
    }
  }
});
