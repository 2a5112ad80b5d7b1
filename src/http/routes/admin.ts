import type { FastifyInstance } from 'fastify';
import { ForbiddenError, ValidationError } from '../../errors.ts';
import type { MetaDb } from '../../meta/db.ts';
import { JOB_NAMES, listRuns, runFilterErrors } from '../../meta/job-runs.ts';
import type { Store } from '../../store/duckdb.ts';
import { listRejects, REJECT_TABLES, rejectFilterErrors } from '../../store/rejects.ts';
import { pagination } from '../../reports/format.ts';
import { arr, bool, int, obj, str } from '../../reports/schema.ts';
import { FORBIDDEN, INVALID, json, SECURITY, UNAUTHORIZED } from '../route-schema.ts';
import type { FreshnessHook } from '../freshness.ts';

const PAGE = /^\d{1,9}$/;

const ADMIN = { tags: ['admin'], security: SECURITY.bearer };
const FAILURES = { 401: UNAUTHORIZED, 403: FORBIDDEN, 422: INVALID };
const nullableStr = { type: ['string', 'null'] };

const JOBS_SCHEMA = {
  ...ADMIN, summary: 'The last job runs (admins only)', operationId: 'admin_jobs',
  querystring: {
    type: 'object', required: [],
    properties: {
      job: str({ enum: [...JOB_NAMES], description: 'one job' }),
      limit: int({ minimum: 1, maximum: 1000, default: 50, description: 'runs' }),
    },
  },
  response: {
    200: {
      description: 'runs, newest first',
      content: json(obj({ data: arr(obj({ id: int(), job: str(), status: str(), started_at: str(), ended_at: nullableStr, ms: { type: ['integer', 'null'] }, stats: {}, error: nullableStr })) })),
    },
    ...FAILURES,
  },
};

const REJECTS_SCHEMA = {
  ...ADMIN, summary: 'Quarantined source rows, latest first (admins only)', operationId: 'admin_rejects',
  querystring: {
    type: 'object', required: [],
    properties: {
      table: str({ enum: [...REJECT_TABLES], description: 'one source table' }),
      page: int({ minimum: 1, default: 1, description: 'page number' }),
      page_size: int({ minimum: 1, maximum: 100, default: 25, description: 'rows per page' }),
    },
  },
  response: {
    200: {
      description: 'a page of quarantined rows',
      content: json(obj({
        pagination: obj({ total_items: int(), total_pages: int(), page_number: int(), has_next: bool, has_previous: bool }),
        data: arr(obj({
          table: str(), source_id: nullableStr, reason: str(), raw: { type: 'object', description: 'the row as read' },
          first_seen: str(), last_seen: str(), seen_count: int(), loaded_by: { type: ['string', 'null'], description: 'the sync run or CDR file' },
        })),
      })),
    },
    ...FAILURES,
  },
};

/**
 * For operators (admins only): the last job runs, their counts and errors; and the
 * quarantined source rows, a page at a time. The scope they are registered in has
 * authenticated the caller.
 */
export async function adminRoutes(app: FastifyInstance, opts: { meta: MetaDb; store: Store; fresh: FreshnessHook }): Promise<void> {
  app.addHook('preHandler', opts.fresh);
  app.get('/api/admin/jobs', { schema: JOBS_SCHEMA }, async (req) => {
    if (req.principal?.role !== 'admin') throw new ForbiddenError('Admins only.');
    const q = req.query as Record<string, unknown>;
    const job = Object.hasOwn(q, 'job') ? q.job : undefined;
    const limit = Object.hasOwn(q, 'limit') ? q.limit : undefined;
    const errors = runFilterErrors(job, limit);
    for (const key of Object.keys(q)) if (key !== 'job' && key !== 'limit') errors.set(key, [`The ${key} parameter is not accepted here.`]);
    if (errors.size) throw new ValidationError(Object.fromEntries(errors));
    return { data: await listRuns(opts.meta, { job: (job as string | undefined) ?? null, limit: limit === undefined ? 50 : Number(limit) }) };
  });

  app.get('/api/admin/rejects', { schema: REJECTS_SCHEMA }, async (req) => {
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
