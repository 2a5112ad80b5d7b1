import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { ReportDeclaration } from '../../reports/declaration.ts';
import { formatsOf, type ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { sendExport, type ExportSettings } from '../export-response.ts';

/**
 * One route per report family, plus its `/export` twin; the declaration decides
 * everything else: parameters, formats, columns and the export layout.
 */
export async function reportRoutes(app: FastifyInstance, opts: { engine: ReportEngine; reports: ReportDeclaration[]; exports?: ExportSettings }): Promise<void> {
  const families = [...new Set(opts.reports.map((r) => r.family))];
  for (const family of families) {
    const byName = new Map(opts.reports.filter((r) => r.family === family).map((r) => [r.name, r]));
    const declared = (name: string) => {
      const decl = byName.get(name);
      if (!decl) throw new NotFoundError(`Unknown report "${name}". Valid reports: ${[...byName.keys()].join(', ')}.`);
      return decl;
    };

    app.get(`/api/${family}/reports/:report`, { onRequest: app.authenticate }, async (req, reply) => {
      const { report } = req.params as { report: string };
      const decl = declared(report);
      const prepared = await opts.engine.prepare(decl, req.query as Query, req.principal!);
      if (prepared.ctx.params.format !== 'json') return sendExport(req, reply, opts.engine, prepared, opts.exports);
      return { data: await opts.engine.json(prepared) };
    });

    app.get(`/api/${family}/reports/:report/export`, { onRequest: app.authenticate }, async (req, reply) => {
      const { report } = req.params as { report: string };
      const decl = declared(report);
      const formats = formatsOf(decl).filter((f) => f !== 'json');
      if (formats.length === 0) throw new NotFoundError(`The ${report} report has no export; it is served as JSON only.`);
      const query = req.query as Query;
      if (query.format === undefined || query.format === '') {
        throw new ValidationError({ format: [`The format field is required (${formats.join(' or ')}).`] });
      }
      const prepared = await opts.engine.prepare(decl, query, req.principal!, formats);
      return sendExport(req, reply, opts.engine, prepared, opts.exports);
    });
  }
}
