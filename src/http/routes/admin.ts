import type { FastifyInstance } from 'fastify';
import type { MetaDb } from '../../meta/db.ts';
import { listRuns } from '../../meta/job-runs.ts';

/** Job runs for operators (admins only): the last runs, their counts and errors. */
export async function adminRoutes(app: FastifyInstance, opts: { meta: MetaDb }): Promise<void> {
  app.get('/api/admin/jobs', { onRequest: app.authenticate }, async (req, reply) => {
    if (req.principal?.role !== 'admin') return reply.code(403).send({ message: 'Admins only.' });
    const q = req.query as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    for (const key of Object.keys(q)) if (key !== 'job' && key !== 'limit') errors[key] = [`The ${key} parameter is not accepted here.`];
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) errors.limit = ['The limit must be an integer from 1 to 1000.'];
    if (q.job !== undefined && (typeof q.job !== 'string' || !/^[a-z_-]{1,32}$/.test(q.job))) errors.job = ['The job must be a job name (sync, billing, …).'];
    if (Object.keys(errors).length) return reply.code(422).send({ message: 'The given data was invalid.', errors });
    return { data: await listRuns(opts.meta, { job: (q.job as string | undefined) ?? null, limit }) };
  });
}
