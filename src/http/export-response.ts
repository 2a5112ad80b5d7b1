import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { writeReport, type ExportSettings } from '../export/report-export.ts';
import type { PreparedReport, ReportEngine } from '../reports/engine.ts';

export type { ExportSettings };

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/**
 * Sends this request's answer as it is: the compression hook (app.ts) leaves a request
 * with `x-no-compression` alone. For CSV and XLSX downloads: an XLSX is a zip already,
 * and a CSV export streams at the speed of the store, not of a compressor.
 */
export function sendAsIs(req: FastifyRequest): void {
  req.headers['x-no-compression'] = '1';
}

/** `{report}_{from}_{to}.{ext}` with the window's first and last local days. */
export function exportFilename(r: PreparedReport, ext: string): string {
  if (r.decl.filename) return `${r.decl.filename(r.ctx)}.${ext}`;
  const { from, to, timezone } = r.ctx.params;
  const parts = [r.decl.name];
  if (from && to) parts.push(from.setZone(timezone).toISODate()!, to.minus({ milliseconds: 1 }).setZone(timezone).toISODate()!);
  return `${parts.join('_')}.${ext}`;
}

/**
 * Sends a prepared report as a CSV or XLSX download. Everything that can be refused
 * (validation, scope, the query itself) has failed before this point with a JSON error;
 * from here a failure can only abort the transfer, so the client sees a broken download,
 * never a short file that looks complete.
 */
export async function sendExport(req: FastifyRequest, reply: FastifyReply, engine: ReportEngine, r: PreparedReport, settings: ExportSettings = {}, more: { sheets?: { name: string; report: PreparedReport }[] } = {}): Promise<FastifyReply> {
  const format = r.ctx.params.format === 'xlsx' ? 'xlsx' : 'csv';
  // A slot among the exports in flight (or a place in the queue, or a 503) before any work.
  const leave = settings.gate ? await settings.gate.enter() : () => undefined;
  const out = new PassThrough();
  let run: Awaited<ReturnType<typeof writeReport>>;
  try {
    run = await writeReport(engine, r, out, settings, {
      ...more, onXlsx: (stats) => req.log.info({ report: r.decl.name, ...stats }, 'xlsx export written'),
    });
  } catch (err) {
    leave();
    throw err;
  }
  run.done.then(leave, leave);
  const closeAll = () => {
    run.close();
    leave();
  };
  run.done.catch((err: unknown) => {
    req.log.error({ err, report: r.decl.name }, 'export failed after the response started; aborting it');
    closeAll();
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  // A client that goes away destroys the stream; the writer sees it and stops the query.
  out.on('close', () => {
    if (!out.writableFinished) closeAll();
  });
  sendAsIs(req);
  return reply
    .header('content-type', CONTENT_TYPES[format])
    .header('content-disposition', `attachment; filename="${exportFilename(r, format)}"`)
    .header('cache-control', 'no-store')
    .send(out);
}
