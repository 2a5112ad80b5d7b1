import type { FastifyInstance } from 'fastify';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { WIDGETS } from '../../reports/widgets/widgets.ts';

/** `GET /api/widgets/data?type=…` in the envelope of seed 002. */
export async function widgetRoutes(app: FastifyInstance, opts: { engine: ReportEngine }): Promise<void> {
  const byType = new Map(WIDGETS.map((w) => [w.name, w]));
  const valid = [...byType.keys()].join(', ');
  app.get('/api/widgets/data', { onRequest: app.authenticate }, async (req, reply) => {
    const { type, ...rest } = req.query as Query;
    if (typeof type !== 'string' || type === '') {
      return reply.code(400).send({ message: `The type parameter is required. Valid types: ${valid}.`, errors: { type: [`The type field is required (one of: ${valid}).`] } });
    }
    const decl = byType.get(type);
    if (!decl) {
      return reply.code(400).send({ message: `Unknown widget type "${type}". Valid types: ${valid}.`, errors: { type: [`The type must be one of: ${valid}.`] } });
    }
    const data = await opts.engine.run(decl, rest, req.principal!);
    return { dataset: type, datasources: [{ datasource: 0, data }] };
  });
}
