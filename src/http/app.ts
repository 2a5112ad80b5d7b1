import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { MetaDb } from '../meta/db.ts';
import type { Principal } from '../auth/principal.ts';
import { BadRequestError, ValidationError } from '../errors.ts';
import { ReportEngine } from '../reports/engine.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { Store } from '../store/duckdb.ts';
import { Tokens } from '../auth/tokens.ts';
import { principalOf } from '../auth/users.ts';
import { authRoutes } from './routes/auth.ts';
import { reportRoutes } from './routes/reports.ts';
import { controlRoutes } from './routes/control.ts';
import { callRoutes } from './routes/calls.ts';
import { callDetail } from '../reports/calls/call-detail.ts';
import { companyRoutes } from './routes/company.ts';
import { widgetRoutes } from './routes/widgets.ts';
import { partnerRoutes } from './routes/partner.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { billingRoutes } from './routes/billing.ts';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { openApiDocument } from './openapi.ts';
import { readiness } from './readiness.ts';
import { adminRoutes } from './routes/admin.ts';
import type { ExportSettings } from './export-response.ts';
import type { ControlOptions } from './routes/control.ts';
import type { SyncProgress } from '../sync/sync.ts';
import { firstSyncMessage } from './readiness.ts';
import { dataAsOf } from '../store/data-as-of.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** When the data a report reads was current (X-Data-As-Of), read before the report runs. */
    dataAsOf: string | null;
  }
  interface FastifyInstance {
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** The report engine (tests read its exports in flight). */
    engine: ReportEngine;
  }
}

export interface AppOptions {
  store: Store;
  meta: MetaDb;
  jwtSecret: string;
  reports: ReportDeclaration[];
  now?: () => Date;
  logLevel?: string;
  /** Where log lines go (stdout when absent); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** /readyz fails once the sync has been failing for longer than this (seconds). */
  readyMaxFailingSec?: number;
  /** Sees every route as it is added (the OpenAPI test lists them). */
  onRoute?: (route: RouteOptions) => void;
  /** Export settings (tests inject a small XLSX sheet limit). */
  exports?: ExportSettings;
  /** The running sync's progress: while no sync has finished, reports answer 503 with it. */
  syncProgress?: () => SyncProgress | null;
  /** Lets `callboard sync` ask the running server to sync (see routes/control.ts). */
  control?: ControlOptions;
}

/**
 * The app as a plugin tree: auth decorator, then routes. `server.ts` only listens, so
 * tests build this and use `inject` against a real store.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // `/api/v1/dashboard` and `/api/v1/dashboard/` are one route: clients use both.
    routerOptions: { ignoreTrailingSlash: true },
    logger: { level: opts.logLevel ?? 'info', ...(opts.logStream ? { stream: opts.logStream } : {}) },
    genReqId: (() => {
      let n = 0;
      return () => `req-${(++n).toString(36)}`;
    })(),
  });
  const now = opts.now ?? (() => new Date());
  const tokens = new Tokens(opts.jwtSecret, opts.meta, now);
  const engine = new ReportEngine(opts.store, now, opts.exports?.sliceRows);
  app.decorate('engine', engine);

  app.decorateRequest('principal', null);
  app.decorateRequest('dataAsOf', null);
  // Every report answer says how fresh its data is: the start of the last sync that
  // finished, read before the report runs so the header never claims more than the data.
  const reportRoute = (url: string | undefined) => url !== undefined && url.startsWith('/api/') && !url.startsWith('/api/accounts/');
  app.addHook('preHandler', async (req, reply) => {
    const url = req.routeOptions.url;
    if (!reportRoute(url)) return;
    req.dataAsOf = await dataAsOf(opts.store);
    // Before the first sync has finished a report would be zeros that look like figures.
    if (req.dataAsOf === null && !url!.startsWith('/api/admin/')) {
      return reply.code(503).header('retry-after', '10').send({ message: firstSyncMessage(opts.syncProgress?.() ?? null) });
    }
  });
  app.addHook('onSend', async (req, reply) => {
    if (req.dataAsOf) reply.header('x-data-as-of', req.dataAsOf);
  });
  /** The user of a request's Bearer access token, and whether it sent one. */
  const bearer = async (req: FastifyRequest): Promise<{ sent: boolean; principal: Principal | null }> => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const userId = m ? await tokens.verify(m[1], 'access') : null;
    return { sent: m !== null, principal: userId === null ? null : await principalOf(opts.meta, userId) };
  };
  app.decorate('authenticate', async (req: FastifyRequest, reply: FastifyReply) => {
    const { sent, principal } = await bearer(req);
    if (!principal) {
      await reply.code(401).send({ message: sent ? 'The access token is invalid or expired.' : 'Authentication required: send Authorization: Bearer <access token>.' });
      return;
    }
    req.principal = principal;
  });

  // One place shapes every error answer (src/errors.ts): 4xx with its message (and its
  // fields for a 422 or 400), 5xx logged with the request and answered with its id only.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof ValidationError || err instanceof BadRequestError) return reply.code(err.statusCode).send({ message: err.message, errors: err.errors });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ message: 'Internal Server Error', request_id: req.id });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ message: `No route ${req.method} ${req.url.split('?')[0]}.` }));

  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    // Job runs are stamped by the wall clock, whatever "now" the reports are given.
    const { principal } = await bearer(req);
    const r = await readiness(opts.store, opts.meta, new Date(), opts.readyMaxFailingSec ?? 600, opts.syncProgress?.() ?? null, principal?.role === 'admin');
    if (!r.ready) reply.header('retry-after', '10');
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  const document = openApiDocument(opts.reports);
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', async () => document);
  await app.register(authRoutes, { meta: opts.meta, tokens });
  await app.register(reportRoutes, { engine, reports: opts.reports, exports: opts.exports });
  await app.register(callRoutes, { engine, decl: callDetail, exports: opts.exports });
  await app.register(companyRoutes, { engine });
  await app.register(widgetRoutes, { engine });
  await app.register(partnerRoutes, { engine, meta: opts.meta });
  await app.register(campaignRoutes, { engine, exports: opts.exports });
  await app.register(billingRoutes, { engine, exports: opts.exports });
  await app.register(adminRoutes, { meta: opts.meta, store: opts.store });
  if (opts.control) await app.register(controlRoutes, opts.control);
  return app;
}
