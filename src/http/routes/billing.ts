import type { FastifyInstance } from 'fastify';
import { billingMismatchPage, billingMismatches, billingReconciliation } from '../../reports/billing/reconciliation.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { sendExport, type ExportSettings } from '../export-response.ts';

/**
 * The monthly billing reconciliation: JSON, the summary as CSV, or a workbook with the
 * summary and every mismatched row.
 */
export async function billingRoutes(app: FastifyInstance, opts: { engine: ReportEngine; exports?: ExportSettings }): Promise<void> {
  app.get('/api/billing/reconciliation', { onRequest: app.authenticate }, async (req, reply) => {
    const query = req.query as Query;
    const r = await opts.engine.prepare(billingReconciliation, query, req.principal!);
    if (r.ctx.params.format === 'json') return opts.engine.json(r);
    if (r.ctx.params.format === 'csv') return sendExport(req, reply, opts.engine, r, opts.exports);
    const mismatches = await opts.engine.prepare(billingMismatches, query, req.principal!);
    return sendExport(req, reply, opts.engine, r, opts.exports, { sheets: [{ name: 'Mismatches', report: mismatches }] });
  });

  // The rows behind the mismatches: JSON pages (page, page_size), or every row as CSV or XLSX.
  app.get('/api/billing/mismatches', { onRequest: app.authenticate }, async (req, reply) => {
    const query = req.query as Query;
    const format = Object.hasOwn(query, 'format') ? query.format : undefined;
    if (format === 'csv' || format === 'xlsx') {
      return sendExport(req, reply, opts.engine, await opts.engine.prepare(billingMismatches, query, req.principal!), opts.exports);
    }
    return opts.engine.json(await opts.engine.prepare(billingMismatchPage, query, req.principal!, ['json', 'csv', 'xlsx']));
  });
}
