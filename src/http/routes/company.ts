import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ReportEngine } from '../../reports/engine.ts';
import { companyDashboard } from '../../reports/company/dashboard.ts';
import type { Query } from '../../reports/params.ts';

/** The company dashboard: the object itself is the body, as its clients expect. */
export async function companyRoutes(app: FastifyInstance, opts: { engine: ReportEngine }): Promise<void> {
  const handler = async (req: FastifyRequest) =>
    opts.engine.run(companyDashboard, req.query as Query, req.principal!);
  app.get('/api/v1/dashboard/', { onRequest: app.authenticate }, handler);
}
