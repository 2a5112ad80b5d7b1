import type { FastifyInstance } from 'fastify';
import type { ReportDeclaration } from '../../reports/declaration.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { sendExport, type ExportSettings } from '../export-response.ts';

/**
 * The call detail records (`GET /api/calls`): keyset-paginated JSON, or every row of the
 * window as a CSV or XLSX stream.
 */
export async function callRoutes(app: FastifyInstance, opts: { engine: ReportEngine; decl: ReportDeclaration; exports?: ExportSettings }): Promise<void> {
  app.get('/api/calls', { onRequest: app.authenticate }, async (req, reply) => {
    const prepared = await opts.engine.prepare(opts.decl, req.query as Query, req.principal!);
    if (prepared.ctx.params.format !== 'json') return sendExport(req, reply, opts.engine, prepared, opts.exports);
    return opts.engine.page(prepared);
  });
}
