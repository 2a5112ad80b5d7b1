import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal.ts';
import type { Tokens } from '../auth/tokens.ts';
import { checkPassword } from '../auth/users.ts';
import type { MetaDb } from '../meta/db.ts';
import type { SubscriptionLimits } from '../delivery/subscriptions.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { ReportEngine } from '../reports/engine.ts';
import type { Store } from '../store/duckdb.ts';
import type { LoginGuards } from '../http/routes/auth.ts';
import { endSession, sessionUser, startSession } from './session.ts';
import { consolePages } from './pages.ts';
import { reportRoutes } from '../http/routes/reports.ts';
import { hideFromOpenApi } from '../http/openapi.ts';
import type { ExportSettings } from '../http/export-response.ts';
import type { FreshnessHook } from '../http/freshness.ts';
import type { SyncProgress } from '../sync/sync.ts';

/** The console's templates and browser files (`console/` beside `src/`, or beside `dist/`). */
const here = path.dirname(fileURLToPath(import.meta.url));
const root = [path.resolve(here, '../../console'), path.resolve(here, '../../../console')].find((d) => fs.existsSync(path.join(d, 'views'))) ?? path.resolve(here, '../../console');
const uplotDir = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

export interface ConsoleOptions {
  store: Store;
  meta: MetaDb;
  tokens: Tokens;
  engine: ReportEngine;
  reports: readonly ReportDeclaration[];
  guards: LoginGuards;
  cache?: LRUCache<string, string>;
  exports?: ExportSettings;
  now: () => Date;
  /** The report routes' freshness hook: the downloads answer as the API does before the first sync. */
  fresh: FreshnessHook;
  syncProgress?: () => SyncProgress | null;
  /** Scheduled delivery, when the server runs it: the Delivery page manages subscriptions. */
  delivery?: { limits: SubscriptionLimits; email: boolean };
}

/** The console user of a request's session cookie, read and kept on the request. */
export type ReadSession = (req: FastifyRequest) => Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The console user of the session cookie (console routes only). */
    consoleUser: Principal | null;
  }
}

/** Only a path of this site (never `//host` or a scheme) is a place to go back to after signing in. */
export const safeNext = (next: unknown): string => (typeof next === 'string' && /^\/console\/[\w\-/]*(\?[^\s]*)?$/.test(next) ? next : '/console/telesales');

/**
 * The web console: server-rendered pages at `/` and `/console/…` for people, built from
 * the report catalogue and the engine in process, so every figure on a page is the API's
 * own. Signing in sets a session cookie; forms carry a CSRF token; pages are sent with a
 * strict Content Security Policy (scripts and styles from this site only).
 */
export async function consolePlugin(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  // The console is pages for people, not the API: none of its routes is in /openapi.json.
  hideFromOpenApi(app);
  await app.register(cookie);
  await app.register(formbody);
  await app.register(csrf, { sessionPlugin: '@fastify/cookie', cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: false } });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"], fontSrc: ["'self'"], objectSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Downloads and pages open in this site only; no cross-origin embedding of either.
    crossOriginEmbedderPolicy: false,
  });
  await app.register(view, {
    engine: { eta: new Eta({ autoEscape: true, cache: true }) },
    templates: path.join(root, 'views'),
    production: true,
  });
  await app.register(fastifyStatic, { root: path.join(root, 'assets'), prefix: '/console/assets/', maxAge: '1h', decorateReply: false, index: false });
  await app.register(fastifyStatic, { root: uplotDir, prefix: '/console/assets/uplot/', maxAge: '1d', decorateReply: false, index: false, allowedPath: (p) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(p) });

  // The session is read where it is needed (pages, downloads, `/`), never for the static
  // files or the sign-in form.
  app.decorateRequest('consoleUser', null);
  const readSession = async (req: FastifyRequest) => {
    req.consoleUser = await sessionUser(req, opts.tokens, opts.meta);
    return req.consoleUser;
  };

  // The downloads are the API's own report routes under /console, authenticated by the
  // session instead of a Bearer token: a file from a page is the API's file of that view.
  // They answer errors as the API does (JSON).
  const apiErrors = app.errorHandler;
  await app.register(async (api) => {
    api.setErrorHandler(apiErrors);
    api.addHook('onRequest', async (req, reply) => {
      if (!(await readSession(req))) return reply.code(401).send({ message: 'Sign in at / to download from the console.' });
      req.principal = req.consoleUser;
    });
    await api.register(reportRoutes, {
      prefix: '/console', engine: opts.engine, exports: opts.exports, cache: opts.cache, fresh: opts.fresh,
      reports: opts.reports.filter((d) => d.endpoint?.auth === 'bearer'),
    });
  });

  // A page that fails is a page, not a JSON body: the message for 4xx, the request id for 5xx.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'console page failed');
    const message = status >= 500 ? `Something went wrong on our side (request ${req.id}).` : err.message;
    return reply.code(status).view('error.eta', { title: 'Error', message, status, user: req.consoleUser, csrf: reply.generateCsrf() });
  });

  const signIn = (reply: FastifyReply, req: FastifyRequest, fields: { email?: string; error?: string; next?: string }, status = 200) =>
    reply.code(status).view('login.eta', { title: 'Sign in', csrf: reply.generateCsrf(), email: fields.email ?? '', error: fields.error ?? null, next: safeNext(fields.next ?? (req.query as { next?: string }).next) });

  app.get('/', async (req, reply) => {
    if (await readSession(req)) return reply.redirect('/console/telesales');
    return signIn(reply, req, {});
  });
  app.get('/login', async (req, reply) => signIn(reply, req, {}));

  app.post('/login', {
    onRequest: opts.guards.perClient,
    preHandler: [app.csrfProtection, opts.guards.perAccount],
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { email?: unknown; password?: unknown; next?: unknown };
    const email = typeof body.email === 'string' ? body.email : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const next = typeof body.next === 'string' ? body.next : undefined;
    if (!email || !password) return signIn(reply, req, { email, next, error: 'Enter your email and password.' }, 400);
    const user = await checkPassword(opts.meta, email, password);
    if (!user) return signIn(reply, req, { email, next, error: 'Invalid email or password.' }, 401);
    await startSession(reply, opts.tokens, user.id);
    return reply.redirect(safeNext(next), 303);
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (_req, reply) => {
    endSession(reply);
    return reply.redirect('/', 303);
  });

  await app.register(consolePages, { ...opts, readSession });
}
