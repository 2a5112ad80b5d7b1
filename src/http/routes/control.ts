import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Local control for the CLI: DuckDB allows one writing process, so `callboard sync`
 * asks the running server to sync instead of opening the store itself. The token lives
 * in the data directory (server.json), readable only by whoever can read the store.
 */
export async function controlRoutes(app: FastifyInstance, opts: { token: string; sync: () => Promise<unknown> }): Promise<void> {
  const expected = Buffer.from(opts.token);
  app.post('/internal/sync', async (req, reply) => {
    const given = Buffer.from(String(req.headers['x-callboard-control'] ?? ''));
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return reply.code(401).send({ message: 'Bad control token.' });
    }
    return { result: await opts.sync() };
  });
}
