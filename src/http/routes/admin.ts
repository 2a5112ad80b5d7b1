import type { FastifyInstance } from 'fastify';
import { ForbiddenError, ValidationError } from '../../errors.ts';
import type { MetaDb } from '../../meta/db.ts';
import { listRuns, runFilterErrors } from '../../meta/job-runs.ts';
import type { Store } from '../../store/duckdb.ts';
import { listRejects, rejectFilterErrors } from '../../store/rejects.ts';
import { pagination } from '../../reports/format.ts';

const PAGE = /^\d{1,9}$/;

/**
 * For operators (admins only): the last job runs, their counts and errors; and the
 * quarantined source rows, a page at a time.
 */
export async function adminRoutes(app: FastifyInstance, opts: { meta: MetaDb; store: Store }): Promise<void> {
  app.get('/api/admin/jobs', { onRequest: app.authenticate }, async (req) => {
    if (req.principal?.role !== 'admin') throw new ForbiddenError('Admins only.');
    const q = req.query as Record<string, unknown>;
    const job = Object.hasOwn(q, 'job') ? q.job : undefined;
    const limit = Object.hasOwn(q, 'limit') ? q.limit : undefined;
    const errors = runFilterErrors(job, limit);
    for (const key of Object.keys(q)) if (key !== 'job' && key !== 'limit') errors.set(key, [`The ${key} parameter is not accepted here.`]);
    if (errors.size) throw new ValidationError(Object.fromEntries(errors));
    return { data: await listRuns(opts.meta, { job: (job as string | undefined) ?? null, limit: limit === undefined ? 50 : Number(limit) }) };
  });

  app.get('/api/admin/rejects', { onRequest: app.authenticate }, async (req) => {
    if (req.principal?.role !== 'admin') throw new ForbiddenError('Admins only.');
    const q = req.query as Record<string, unknown>;
    const take = (k: string) => (Object.hasOwn(q, k) ? q[k] : undefined);
    const errors = rejectFilterErrors(take('table'));
    const page = take('page') ?? '1';
    const size = take('page_size') ?? '25';
    if (typeof page !== 'string' || !PAGE.test(page) || Number(page) < 1) errors.set('page', ['The page must be a positive integer.']);
    if (typeof size !== 'string' || !PAGE.test(size) || Number(size) < 1 || Number(size) > 100) errors.set('page_size', ['The page_size must be an integer from 1 to 100.']);
    for (const key of Object.keys(q)) if (!['table', 'page', 'page_size'].includes(key)) errors.set(key, [`The ${key} parameter is not accepted here.`]);
    if (errors.size) throw new ValidationError(Object.fromEntries(errors));
    const n = Number(page), pageSize = Number(size);
    const { total, rows } = await listRejects(opts.store, { table: (take('table') as string | undefined) ?? null, limit: pageSize, offset: (n - 1) * pageSize });
    return { pagination: pagination(total, n, pageSize), data: rows };
  });
}
