import type { FastifyInstance } from 'fastify';
import type { ReportDeclaration } from '../../reports/declaration.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';

/** One route per report family; the declaration decides everything else. */
export async function reportRoutes(app: FastifyInstance, opts: { engine: ReportEngine; reports: ReportDeclaration[] }): Promise<void> {
  const families = [...new Set(opts.reports.map((r) => r.family))];
  for (const family of families) {
    const byName = new Map(opts.reports.filter((r) => r.family === family).map((r) => [r.name, r]));
    app.get(`/api/${family}/reports/:report`, { onRequest: app.authenticate }, async (req, reply) => {
      const { report } = req.params as { report: string };
      const decl = byName.get(report);
      if (!decl) {
        return reply.code(404).send({ message: `Unknown report "${report}". Valid reports: ${[...byName.keys()].join(', ')}.` });
      }
      const data = await opts.engine.run(decl, req.query as Query, req.principal!);
      return { data };
    });
  }
}
