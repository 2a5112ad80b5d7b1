import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { campaignDownload, campaignSummary } from '../../reports/campaigns/campaigns.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { sendExport, type ExportSettings } from '../export-response.ts';

/** The campaign reports of the platform's HTTP API: the paginated summary and the per-campaign file. */
export async function campaignRoutes(app: FastifyInstance, opts: { engine: ReportEngine; exports?: ExportSettings }): Promise<void> {
  const summary = async (req: FastifyRequest) => opts.engine.run(campaignSummary, req.query as Query, req.principal!);
  const download = async (req: FastifyRequest, reply: FastifyReply) => {
    const prepared = await opts.engine.prepare(campaignDownload, req.query as Query, req.principal!, ['xlsx', 'csv']);
    return sendExport(req, reply, opts.engine, prepared, opts.exports);
  };
  app.get('/api/system/campaigns/report/summary/', { onRequest: app.authenticate }, summary);
  app.get('/api/system/campaigns/report/download/', { onRequest: app.authenticate }, download);
}
