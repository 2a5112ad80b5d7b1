import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { makeApp } from '../helpers/fixture.ts';
import { withDelivery } from '../helpers/delivery.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';

// Every route the app registers is collected as it is added, then compared with the document.
const routes: { method: string; url: string }[] = [];
const ctx = await makeApp('openapi', 1500, undefined, (store, meta, dir) => {
  return {
    ...withDelivery()(store, meta, dir),
    onRoute: (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m.toLowerCase(), url: r.url });
    },
  };
});
t.teardown(ctx.close);

t.test('/openapi.json is a valid OpenAPI document (independent validator)', async (t) => {
  const res = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(res.statusCode, 200);
  const result = await new Validator().validate(res.json());
  t.ok(result.valid, JSON.stringify(result.errors ?? null).slice(0, 2000));
  t.equal(res.json().openapi, '3.1.0');
});

t.test('every route the app serves is in the document, with its parameters and error shapes', async (t) => {
  const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const bare = (p: string) => p.replace(/\/$/, '');
  const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${bare(p)}`)));
  // The web console's pages and its session-authenticated downloads are not the API.
  const consoleRoute = (url: string) => url === '/' || url === '/login' || url === '/logout' || url.startsWith('/console/');
  const internal = (url: string) => url.startsWith('/docs') || url === '/openapi.json' || url.startsWith('/internal/') || consoleRoute(url);
  t.ok(routes.some((r) => consoleRoute(r.url)), 'the app serves the console');
  t.notOk([...documented].some((k) => consoleRoute(k.split(' ')[1] || '/')), 'no console route is in the API document');
  const expanded = routes.filter((r) => !internal(r.url)).flatMap((r) => {
    // A path parameter is `:id` to Fastify and `{id}` to OpenAPI.
    if (!r.url.includes(':report')) return [`${r.method} ${bare(r.url).replace(/:(\w+)/g, '{$1}')}`];
    return reportCatalogue()
      .filter((d) => r.url.startsWith(`/api/${d.family}/`))
      .filter((d) => !r.url.endsWith('/export') || d.name !== 'abandon-rate')
      .map((d) => `${r.method} ${r.url.replace(':report', d.name)}`);
  });
  t.ok(expanded.length > 20, 'the app has routes');
  for (const k of expanded) t.ok(documented.has(k), `${k} is documented`);

  const dashboard = doc.paths['/api/telesales/reports/dashboard'].get;
  t.strictSame(dashboard.parameters.filter((p: { required: boolean }) => p.required).map((p: { name: string }) => p.name).sort(), ['date_from', 'date_to']);
  t.ok(dashboard.responses['422'] && dashboard.responses['401'], 'error shapes');
  t.ok(doc.paths['/api/partner/v1/dashboard'].get.security[0].authId !== undefined, 'partner endpoints use X-Auth headers');
  t.same(doc.paths['/api/widgets/data'].get.parameters[0].schema.enum.length, 11, 'the eleven widget types');
  t.ok(doc.paths['/api/billing/reconciliation'].get.responses['200'].content['text/csv'], 'billing CSV');
});

t.test('/docs serves a browsable UI', async (t) => {
  const res = await ctx.app.inject({ method: 'GET', url: '/docs/' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /html/);
});
