import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { MetaDb } from '../meta/db.ts';
import type { Principal } from '../auth/principal.ts';
import { partnerOf } from '../auth/api-keys.ts';
import { apiTokenUser, isApiToken } from '../auth/api-tokens.ts';
import { Tokens } from '../auth/tokens.ts';
import { principalOf } from '../auth/users.ts';
import { BadRequestError, UnavailableError, ValidationError } from '../errors.ts';
import { isOutOfMemory } from '../store/out-of-memory.ts';
import { ReportEngine } from '../reports/engine.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { Store } from '../store/duckdb.ts';
import type { SyncProgress } from '../sync/sync.ts';
import { LRUCache } from 'lru-cache';
import { authRoutes, loginGuards, type LoginLimits } from './routes/auth.ts';
import { reportRoutes } from './routes/reports.ts';
import { controlRoutes, type ControlOptions } from './routes/control.ts';
import { adminRoutes } from './routes/admin.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { deliveryFileRoutes, subscriptionRoutes } from './routes/subscriptions.ts';
import type { DeliveryWorker } from '../delivery/worker.ts';
import type { LinkSigner } from '../delivery/signing.ts';
import type { SubscriptionLimits } from '../delivery/subscriptions.ts';
import { consolePlugin } from '../console/plugin.ts';
import { OPENAPI_FRAME } from './openapi.ts';
import { readiness } from './readiness.ts';
import { freshness } from './freshness.ts';
import { json } from './route-schema.ts';
import type { ExportSettings } from './export-response.ts';
import { obj, str } from '../reports/schema.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The request authenticated with an API token rather than a session's access token. */
    viaApiToken: boolean;
    /** When the data a report reads was current (X-Data-As-Of), read before the report runs. */
    dataAsOf: string | null;
    /** The store's data version, read with dataAsOf: the result cache's key (routes/reports.ts). */
    dataVersion: string | null;
  }
  interface FastifyInstance {
    /** The report engine (tests read its exports in flight). */
    engine: ReportEngine;
  }
}

export interface AppOptions {
  store: Store;
  meta: MetaDb;
  jwtSecret: string;
  /** The report catalogue: every report with its endpoint (reports/registry.ts). */
  reports: ReportDeclaration[];
  now?: () => Date;
  logLevel?: string;
  /** Where log lines go (stdout when absent); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** /readyz fails once the sync has been failing for longer than this (seconds). */
  readyMaxFailingSec?: number;
  /** /readyz fails while a sync has been running for longer than this (seconds). */
  syncTimeoutSec?: number;
  /** Sees every route as it is added (the OpenAPI test lists them). */
  onRoute?: (route: RouteOptions) => void;
  /** Export settings (tests inject a small XLSX sheet limit). */
  exports?: ExportSettings;
  /** The running sync's progress: while no sync has finished, reports answer 503 with it. */
  syncProgress?: () => SyncProgress | null;
  /**
   * A connection silent for this long is closed (ms; 120 s by default): a request whose
   * body never arrives, or a client that stopped reading a download, holds nothing.
   */
  connectionTimeoutMs?: number;
  /** Bytes of JSON answers the result cache keeps (64 MiB); 0 for none (benches that time the reports themselves). */
  cacheBytes?: number;
  /** Logins let through before 429 (routes/auth.ts). */
  loginLimits?: LoginLimits;
  /** Browser origins allowed to call the API (CALLBOARD_CORS_ORIGINS); none by default. */
  corsOrigins?: string[];
  /** The report engine, when the caller shares it with the delivery worker and the alerts; made here otherwise. */
  engine?: ReportEngine;
  /** Scheduled delivery (subscriptions): its routes are served when given. */
  delivery?: { worker: DeliveryWorker; links: LinkSigner; dir: string; limits: SubscriptionLimits; email: boolean };
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
    // A whole request (headers and body) must arrive within 30 s, and a connection that
    // goes silent is closed: slow or stalled clients cannot pile up, nor hold up shutdown.
    requestTimeout: 30_000,
    connectionTimeout: opts.connectionTimeoutMs ?? 120_000,
    logger: { level: opts.logLevel ?? 'info', ...(opts.logStream ? { stream: opts.logStream } : {}) },
    genReqId: (() => {
      let n = 0;
      return () => `req-${(++n).toString(36)}`;
    })(),
  });
  const now = opts.now ?? (() => new Date());
  const tokens = new Tokens(opts.jwtSecret, opts.meta, now);
  const engine = opts.engine ?? new ReportEngine(opts.store, now, opts.exports?.sliceRows);
  app.decorate('engine', engine);

  app.decorateRequest('principal', null);
  app.decorateRequest('viaApiToken', false);
  app.decorateRequest('dataAsOf', null);
  app.decorateRequest('dataVersion', null);
  // Report routes refuse until the first sync has finished; the admin routes answer (they
  // show why it has not). Both say how fresh the data is.
  const fresh = freshness(opts.store, { untilFirstSync: () => opts.syncProgress?.() ?? null });
  app.addHook('onSend', async (req, reply) => {
    if (req.dataAsOf) reply.header('x-data-as-of', req.dataAsOf);
  });
  /** The user of a request's Bearer credential (a session's access token or an API token), and whether it sent one. */
  const bearer = async (req: FastifyRequest): Promise<{ sent: boolean; principal: Principal | null; viaApiToken: boolean }> => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const viaApiToken = m !== null && isApiToken(m[1]);
    const userId = !m ? null : viaApiToken ? await apiTokenUser(opts.meta, m[1], new Date()) : await tokens.verify(m[1], 'access');
    return { sent: m !== null, principal: userId === null ? null : await principalOf(opts.meta, userId), viaApiToken };
  };
  const bearerAuth = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { sent, principal, viaApiToken } = await bearer(req);
    if (!principal) {
      await reply.code(401).send({ message: sent ? 'The access or API token is invalid, expired or revoked.' : 'Authentication required: send Authorization: Bearer <access or API token>.' });
      return;
    }
    req.principal = principal;
    req.viaApiToken = viaApiToken;
  };
  const authenticate = {
    bearer: bearerAuth,
    // Every failure (missing header, unknown id, revoked key, wrong token) is the same 401.
    // The partner API takes its key pair only, as the platform's does: no user token.
    partner: async (req: FastifyRequest, reply: FastifyReply) => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? undefined : v;
      };
      const who = await partnerOf(opts.meta, header('x-auth-id'), header('x-auth-token'));
      if (!who) {
        await reply.code(401).send({ message: 'Authentication failed: send a valid X-Auth-ID and X-Auth-Token.' });
        return;
      }
      req.principal = who;
    },
  };

  // One place shapes every error answer (src/errors.ts): 4xx with its message (and its
  // fields for a 422 or 400), 5xx logged with the request and answered with its id only.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ValidationError || err instanceof BadRequestError) return reply.code(err.statusCode).send({ message: err.message, errors: err.errors });
    // Storage faults are the server's state, not a bug: 503 with a reason, and the
    // original error in the log.
    if (err instanceof UnavailableError) return reply.code(503).header('retry-after', String(err.retryAfterSec)).send({ message: err.message });
    const unavailable = storageFault(err, opts.store);
    if (unavailable) {
      req.log.error({ err }, 'storage fault');
      return reply.code(503).header('retry-after', '30').send({ message: unavailable, request_id: req.id });
    }
    // The store's memory stayed taken by other work through every retry (out-of-memory.ts).
    if (isOutOfMemory(err)) {
      req.log.warn({ err }, 'the store is out of memory');
      return reply.code(503).header('retry-after', '10').send({ message: 'The server is busy with other reports and exports: retry in a few seconds.', request_id: req.id });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ message: 'Internal Server Error', request_id: req.id });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ message: `No route ${req.method} ${req.url.split('?')[0]}.` }));

  // Route schemas describe the API for the OpenAPI document only: the parameter readers
  // give the exact 422 texts, and answers are written as the reports shape them.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Pages, scripts, styles and JSON answers go out compressed to a client that accepts it
  // (brotli at quality 4, gzip or deflate; bodies under 1 KB as they are). CSV and XLSX
  // downloads go as they are (sendAsIs in export-response.ts).
  await app.register(compress, { threshold: 1024, encodings: ['br', 'gzip', 'deflate'] });
  // Browsers on the listed origins (a BI tool's web front end) may call the API with a
  // Bearer token. No cookie is ever allowed across origins: the console is same-origin.
  if (opts.corsOrigins?.length) {
    await app.register(cors, {
      origin: opts.corsOrigins, credentials: false, methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Auth-ID', 'X-Auth-Token'],
      exposedHeaders: ['X-Data-As-Of', 'Content-Disposition', 'Retry-After'], maxAge: 600,
    });
  }
  await app.register(swagger, { openapi: OPENAPI_FRAME as never });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);

  const health = { tags: ['health'], security: [] };
  // Alive means able to serve: an invalidated store fails it until it is reopened.
  app.get('/healthz', {
    schema: { ...health, summary: 'The process is up', operationId: 'healthz', response: {
      200: { description: 'up', content: json(obj({ status: str() })) },
      503: { description: 'the store is unusable (a storage fault) until it is reopened', content: json(obj({ status: str(), message: str() })) },
    } },
  }, async (_req, reply) => {
    const fatal = opts.store.fatal;
    if (fatal) return reply.code(503).send({ status: 'error', message: `the store is unusable until it is reopened: ${fatal.message.split('\n')[0]}` });
    return { status: 'ok' };
  });
  app.get('/readyz', {
    schema: {
      ...health, summary: 'Ready: the store answers and the sync has not been failing too long', operationId: 'readyz',
      response: { 200: { description: 'ready', content: json({ type: 'object' }) }, 503: { description: 'not ready', content: json({ type: 'object' }) } },
    },
  }, async (req, reply) => {
    // Job runs are stamped by the wall clock, whatever "now" the reports are given.
    const { principal } = await bearer(req);
    const r = await readiness(opts.store, opts.meta, new Date(), opts.readyMaxFailingSec ?? 600, opts.syncProgress?.() ?? null, principal?.role === 'admin', opts.syncTimeoutSec);
    if (!r.ready) reply.header('retry-after', '10');
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const guards = await loginGuards(app, opts.loginLimits);
  await app.register(authRoutes, { meta: opts.meta, tokens, guards });

  // One authentication hook per scope: the partner API's key pair, and a Bearer access
  // token for every other report and the admin endpoints.
  const served = (auth: 'bearer' | 'partner') => opts.reports.filter((d) => d.endpoint?.auth === auth);
  // JSON answers by data version, scope and parameters (routes/reports.ts), sized in bytes.
  const cache = opts.cacheBytes === 0 ? undefined : new LRUCache<string, string>({ maxSize: opts.cacheBytes ?? 64 * 2 ** 20, sizeCalculation: (text) => Math.max(1, text.length) });
  await app.register(async (scope) => {
    scope.addHook('onRequest', authenticate.partner);
    await scope.register(reportRoutes, { engine, reports: served('partner'), exports: opts.exports, cache, fresh });
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', authenticate.bearer);
    await scope.register(reportRoutes, { engine, reports: served('bearer'), exports: opts.exports, cache, fresh });
    await scope.register(adminRoutes, { meta: opts.meta, store: opts.store, fresh: freshness(opts.store) });
    await scope.register(tokenRoutes, { meta: opts.meta });
    const d = opts.delivery;
    if (d) {
      await scope.register(subscriptionRoutes, {
        meta: opts.meta, store: opts.store, engine, reports: opts.reports, limits: d.limits, email: d.email, now: () => new Date(),
        redeliver: async (id) => {
          await d.worker.redeliver(id);
          void d.worker.run().catch((err: unknown) => app.log.error({ err }, 'delivery run failed'));
        },
      });
    }
  });
  if (opts.delivery) await app.register(deliveryFileRoutes, { links: opts.delivery.links, dir: opts.delivery.dir, now: () => new Date() });
  await app.register(consolePlugin, { store: opts.store, meta: opts.meta, tokens, engine, reports: opts.reports, guards, cache, exports: opts.exports, now, fresh, syncProgress: opts.syncProgress, delivery: opts.delivery ? { limits: opts.delivery.limits, email: opts.delivery.email } : undefined });
  if (opts.control) await app.register(controlRoutes, opts.control);
  return app;
}

/**
 * The 503 message of a storage fault, or null: a full disk (the store's or meta.db's), or
 * a store DuckDB invalidated, which the server reopens (see server.ts).
 */
function storageFault(err: Error & { code?: string }, store: Store): string | null {
  if (store.fatal || /database has been invalidated/i.test(err.message)) return 'The store hit a storage error and is being reopened: retry shortly.';
  if (err.code === 'SQLITE_FULL' || err.code === 'ENOSPC' || /no space left on device|database or disk is full/i.test(err.message)) {
    return 'The server\'s disk is full: nothing was changed. Retry once space is freed.';
  }
  return null;
}

