import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, NotFoundError, ValidationError } from '../../errors.ts';
import type { Endpoint, ReportDeclaration } from '../../reports/declaration.ts';
import type { LRUCache } from 'lru-cache';
import { readSql } from '../../store/sql-files.ts';
import { servedFormats, type PreparedReport, type ReportEngine } from '../../reports/engine.ts';
import type { Format, Query } from '../../reports/params.ts';
import { own } from '../../reports/param-read.ts';
import { arr, int, obj, str } from '../../reports/schema.ts';
import { sendExport, type ExportSettings } from '../export-response.ts';
import { querySchema, reportSchema } from '../route-schema.ts';
import type { FreshnessHook } from '../freshness.ts';

export interface ReportRouteOptions {
  engine: ReportEngine;
  /** The declarations this scope serves (one authentication). */
  reports: readonly ReportDeclaration[];
  exports?: ExportSettings;
  /** JSON answers already computed, by cacheKey. */
  cache?: LRUCache<string, string>;
  /** Reads the data's freshness and version before each report (and refuses before the first sync). */
  fresh: FreshnessHook;
}

/** Whether a report's answers can be kept: not when its window or its SQL reads the clock. */
const cacheable = (decl: ReportDeclaration) => !decl.window && !readSql(decl.sql).includes('$now');

/**
 * The key of a JSON answer in the result cache, or null when it cannot be cached: the
 * data version (any committed change makes a new one, so nothing older than the last
 * sync is served), the report, the caller's resolved scope and every bound SQL value
 * (accounts, partner), and the parsed parameters. A report whose window or SQL reads the
 * clock changes without a new version, and is never cached.
 */
function cacheKey(r: PreparedReport, version: string | null): string | null {
  if (version === null || !cacheable(r.decl)) return null;
  const { now: _now, ...bound } = r.bound as Record<string, unknown>;
  return JSON.stringify([version, r.decl.family, r.decl.name, r.ctx.accounts, bound, r.ctx.params]);
}

/** The answers each result cache is computing, by key. */
const computing = new WeakMap<LRUCache<string, string>, Map<string, Promise<string>>>();

/**
 * A prepared report's JSON answer as text, from the result cache when the same answer was
 * computed for this data version: the API's answers and the console's pages share it.
 * Identical questions that arrive while the first is computed wait for that computation
 * and are answered from it (a hit): a wallboard refreshed by many viewers at once costs
 * one query.
 */
export async function cachedBody(engine: ReportEngine, prepared: PreparedReport, version: string | null, cache?: LRUCache<string, string>): Promise<{ text: string; hit: boolean }> {
  const key = cache ? cacheKey(prepared, version) : null;
  if (key === null) return { text: JSON.stringify(await engine.body(prepared)), hit: false };
  const cached = cache!.get(key);
  if (cached !== undefined) return { text: cached, hit: true };
  let pending = computing.get(cache!);
  if (!pending) computing.set(cache!, (pending = new Map()));
  const running = pending.get(key);
  if (running) return { text: await running, hit: true };
  const text = engine.body(prepared).then((body) => JSON.stringify(body));
  pending.set(key, text);
  try {
    const done = await text;
    cache!.set(key, done);
    return { text: done, hit: false };
  } finally {
    pending.delete(key);
  }
}

const files = (formats: readonly Format[]): Format[] => formats.filter((f) => f !== 'json');

/**
 * Registers every declared report at its endpoint: the route, its answer envelope, its
 * downloads and its OpenAPI operation all come from the declaration. The scope this runs
 * in has already authenticated the caller.
 */
export async function reportRoutes(app: FastifyInstance, opts: ReportRouteOptions): Promise<void> {
  const { engine } = opts;
  app.addHook('preHandler', opts.fresh);

  /** The answer of one report in the formats its path serves. */
  const answer = async (decl: ReportDeclaration, query: Query, req: FastifyRequest, reply: FastifyReply, formats: readonly Format[]) => {
    const ep = decl.endpoint!;
    const who = req.principal!;
    const asked = own(query, 'format');
    // The rows behind a JSON page are another report's, with every row in the file.
    if (ep.files && typeof asked === 'string' && files(formats).includes(asked as Format)) {
      reply.header('x-cache', 'miss');
      return sendExport(req, reply, engine, await engine.prepare(ep.files, query, who), opts.exports);
    }
    // The same request as one answered before (the same query string, caller and data
    // version) is answered without reading its parameters again: the cheapest hit. Not for
    // reports whose default days are "the 30 days ending today" (from_date/to_date), which
    // the same query string means differently tomorrow.
    const asIs = opts.cache && req.dataVersion !== null && cacheable(decl) && !decl.params.includes('from_date')
      ? JSON.stringify([req.dataVersion, decl.family, decl.name, who.role, who.accountId, who.partnerId, formats, Object.entries(query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))])
      : null;
    const early = asIs === null ? undefined : opts.cache!.get(asIs);
    if (early !== undefined) return reply.header('x-cache', 'hit').type('application/json; charset=utf-8').send(early);
    const prepared = await engine.prepare(decl, query, who, formats);
    const format = prepared.ctx.params.format;
    if (format !== 'json') {
      reply.header('x-cache', 'miss');
      const sheets: { name: string; report: PreparedReport }[] = [];
      if (format === 'xlsx') for (const s of ep.sheets ?? []) sheets.push({ name: s.name, report: await engine.prepare(s.report, query, who) });
      return sendExport(req, reply, engine, prepared, opts.exports, sheets.length ? { sheets } : {});
    }
    const { text, hit } = await cachedBody(engine, prepared, req.dataVersion, opts.cache);
    // asIs is only made for answers cachedBody keeps (a data version, a cacheable report).
    if (asIs !== null) opts.cache!.set(asIs, text);
    return reply.header('x-cache', hit ? 'hit' : 'miss').type('application/json; charset=utf-8').send(text);
  };

  const byPath = new Map<string, ReportDeclaration[]>();
  for (const decl of opts.reports) {
    const path = decl.endpoint!.path;
    byPath.set(path, [...(byPath.get(path) ?? []), decl]);
  }

  for (const [path, decls] of byPath) {
    const ep: Endpoint = decls[0].endpoint!;
    if (path.includes(':report')) servedByName(path, decls);
    else if (ep.select) servedBySelect(path, ep.select, decls);
    else {
      const decl = decls[0];
      const formats = servedFormats(decl);
      app.get(path, { schema: reportSchema(decl) }, async (req, reply) => answer(decl, req.query as Query, req, reply, formats));
    }
  }

  /** One path per report with its name filled in, plus the 404 for names nobody declared. */
  function servedByName(template: string, decls: ReportDeclaration[]) {
    const byName = new Map(decls.map((d) => [d.name, d]));
    const unknown = (name: string) => new NotFoundError(`Unknown report "${name}". Valid reports: ${[...byName.keys()].join(', ')}.`);
    for (const decl of decls) {
      const path = template.replace(':report', decl.name);
      const formats = servedFormats(decl);
      app.get(path, { schema: reportSchema(decl) }, async (req, reply) => answer(decl, req.query as Query, req, reply, formats));
      const fileFormats = files(formats);
      if (!decl.endpoint!.exportTwin || fileFormats.length === 0) continue;
      app.get(`${path}/export`, { schema: reportSchema(decl, { formats: fileFormats, file: true }) }, async (req, reply) => {
        const query = req.query as Query;
        if (query.format === undefined || query.format === '') {
          throw new ValidationError({ format: [`The format field is required (${fileFormats.join(' or ')}).`] });
        }
        return answer(decl, query, req, reply, fileFormats);
      });
    }
    const hidden = { schema: { hide: true } };
    app.get(template, hidden, async (req) => {
      throw unknown((req.params as { report: string }).report);
    });
    if (decls.some((d) => d.endpoint!.exportTwin)) {
      app.get(`${template}/export`, hidden, async (req) => {
        const { report } = req.params as { report: string };
        if (!byName.has(report)) throw unknown(report);
        throw new NotFoundError(`The ${report} report has no export; it is served as JSON only.`);
      });
    }
  }

  /** One path for several reports, picked by a query parameter (the widgets' `type`). */
  function servedBySelect(path: string, select: NonNullable<Endpoint['select']>, decls: ReportDeclaration[]) {
    const { param, noun } = select;
    const byName = new Map(decls.map((d) => [d.name, d]));
    const valid = [...byName.keys()].join(', ');
    const first = decls[0];
    const schema = {
      ...reportSchema(first, {
        formats: ['json'],
        query: querySchema(first, ['json'], { [param]: str({ enum: [...byName.keys()], description: `${noun} ${param} (400 when unknown)` }) }, [param]),
        body: obj({
          dataset: str({ enum: [...byName.keys()] }),
          datasources: arr(obj({ datasource: int(), data: { description: `the value of the ${param}: see docs/reports.md "${noun[0].toUpperCase()}${noun.slice(1)}s"` } })),
        }),
      }),
      operationId: `${first.family}_data`, summary: select.title,
    };
    app.get(path, { schema }, async (req, reply) => {
      const { [param]: name, ...rest } = req.query as Query;
      if (typeof name !== 'string' || name === '') {
        throw new BadRequestError(`The ${param} parameter is required. Valid ${param}s: ${valid}.`, { [param]: [`The ${param} field is required (one of: ${valid}).`] });
      }
      const decl = byName.get(name);
      if (!decl) throw new BadRequestError(`Unknown ${noun} ${param} "${name}". Valid ${param}s: ${valid}.`, { [param]: [`The ${param} must be one of: ${valid}.`] });
      return answer(decl, rest, req, reply, ['json']);
    });
  }
}
