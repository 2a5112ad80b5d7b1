import crypto from 'node:crypto';
import { hideFromOpenApi } from '../openapi.ts';
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../errors.ts';
import { monthProblem } from '../../reports/params.ts';
import { SourceMismatchError } from '../../source/identity.ts';

export interface ControlOptions {
  token: string;
  sync: () => Promise<unknown>;
  /** Empties the store and rebuilds it from the configured source. */
  reset: () => Promise<unknown>;
  /** The source the store was built from. */
  source: () => Promise<unknown>;
  /** Writes (or rewrites) a month's billing files, as the monthly job does. */
  billing: (month: string) => Promise<unknown>;
  /** The quarantined rows (the store belongs to the server). */
  rejects: (table: string | null, limit: number) => Promise<unknown>;
}

/**
 * Local control for the CLI: DuckDB allows one writing process, so `callboard sync` and
 * `callboard billing` ask the running server instead of opening the store themselves.
 * The token lives in the data directory (server.json), readable only by whoever can
 * read the store.
 */
export async function controlRoutes(app: FastifyInstance, opts: ControlOptions): Promise<void> {
  // Local plumbing, not part of the API: left out of the OpenAPI document.
  hideFromOpenApi(app);
  const expected = Buffer.from(opts.token);
  app.addHook('onRequest', async (req, reply) => {
    const given = Buffer.from(String(req.headers['x-callboard-control'] ?? ''));
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return reply.code(401).send({ message: 'Bad control token.' });
    }
  });
  // A source that is not the store's is a conflict the CLI reports with exit 2.
  const conflict = (err: unknown) => {
    if (err instanceof SourceMismatchError) throw Object.assign(new Error(err.message), { statusCode: 409 });
    throw err;
  };
  app.post('/internal/sync', async () => ({ result: await opts.sync().catch(conflict) }));
  app.post('/internal/reset', async () => ({ result: await opts.reset().catch(conflict) }));
  app.post('/internal/source', async () => ({ result: await opts.source() }));
  app.post('/internal/billing', async (req) => {
    const month = (req.body as { month?: unknown } | null)?.month;
    const problem = typeof month === 'string' ? monthProblem(month, new Date()) : 'The month field is required (YYYY-MM).';
    if (problem) throw new ValidationError({ month: [problem] });
    return { result: await opts.billing(month as string) };
  });
  app.post('/internal/rejects', async (req) => {
    const body = (req.body ?? {}) as { table?: string | null; limit?: number };
    return { result: await opts.rejects(body.table ?? null, Number(body.limit ?? 20)) };
  });
}
