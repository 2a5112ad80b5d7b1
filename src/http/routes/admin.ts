import type { FastifyInstance } from 'fastify';
import type { MetaDb } from '../../meta/db.ts';
import { listRuns, runFilterErrors } from '../../meta/job-runs.ts';

/** Job runs for operators (admins only): the last runs, their counts and errors. */
export async function adminRoutes(app: FastifyInstance, opts: { meta: MetaDb }): Promise<void> {
  app.get('/api/admin/jobs', { onRequest: app.authenticate }, async (req, reply) => {
    if (req.principal?.role !== 'admin') return reply.code(403).send({ message: 'Admins only.' });
    const q = req.query as Record<string, unknown>;
    const job = Object.hasOwn(q, 'job') ? q.job : undefined;
    const limit = Object.hasOwn(q, 'limit') ? q.limit : undefined;
    const errors = runFilterErrors(job, limit);
    for (const key of Object.keys(q)) if (key !== 'job' && key !== 'limit') errors.set(key, [`The ${key} parameter is not accepted here.`]);
    if (errors.size) return reply.code(422).send({ message: 'The given data was invalid.', errors: Object.fromEntries(errors) });
    return { data: await listRuns(opts.meta, { job: (job as string | undefined) ?? null, limit: limit === undefined ? 50 : Number(limit) }) };
  });
}
