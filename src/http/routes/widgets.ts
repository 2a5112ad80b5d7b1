import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../../errors.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { WIDGETS } from '../../reports/widgets/widgets.ts';

/** `GET /api/widgets/data?type=…` in the widget API's envelope (`dataset`, `datasources`). */
export async function widgetRoutes(app: FastifyInstance, opts: { engine: ReportEngine }): Promise<void> {
  const byType = new Map(WIDGETS.map((w) => [w.name, w]));
  const valid = [...byType.keys()].join(', ');
  app.get('/api/widgets/data', { onRequest: app.authenticate }, async (req) => {
    const { type, ...rest } = req.query as Query;
    if (typeof type !== 'string' || type === '') {
      throw new BadRequestError(`The type parameter is required. Valid types: ${valid}.`, { type: [`The type field is required (one of: ${valid}).`] });
    }
    const decl = byType.get(type);
    if (!decl) throw new BadRequestError(`Unknown widget type "${type}". Valid types: ${valid}.`, { type: [`The type must be one of: ${valid}.`] });
    const data = await opts.engine.run(decl, rest, req.principal!);
    return { dataset: type, datasources: [{ datasource: 0, data }] };
  });
}
