import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { writeCsv } from '../export/csv.ts';
import { genericLayout, templateLayout, type ExportColumn } from '../export/layout.ts';
import type { TemplateStore } from '../export/templates.ts';
import { ValidationError } from '../reports/params.ts';
import { writeXlsx } from '../export/xlsx.ts';
import type { PreparedReport, ReportEngine } from '../reports/engine.ts';

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** `{report}_{from}_{to}.{ext}` with the window's first and last local days. */
export function exportFilename(r: PreparedReport, ext: string): string {
  if (r.decl.filename) return `${r.decl.filename(r.ctx)}.${ext}`;
  const { from, to, timezone } = r.ctx.params;
  const parts = [r.decl.name];
  if (from && to) parts.push(from.setZone(timezone).toISODate()!, to.minus({ milliseconds: 1 }).setZone(timezone).toISODate()!);
  return `${parts.join('_')}.${ext}`;
}

export interface ExportSettings {
  /** Data rows per XLSX sheet; Excel's limit unless a test injects a smaller one. */
  xlsxRowsPerSheet?: number;
  /** Customer layouts (templates/); none when absent. */
  templates?: TemplateStore;
}

/** The layout a request asks for: the generic one, or a template of its one account. */
export function layoutOf(r: PreparedReport, templates: TemplateStore | undefined): ExportColumn[] {
  const name = r.ctx.params.template;
  if (name === null) return genericLayout(r.decl, r.ctx.params);
  if (r.ctx.accounts.length !== 1) {
    throw new ValidationError({ template: ['A template belongs to one account: add account_id.'] });
  }
  const account = r.ctx.accounts[0];
  const t = templates?.get(account, r.decl.name, name);
  if (!t) {
    const names = templates?.names(account, r.decl.name) ?? [];
    throw new ValidationError({ template: [`No template "${name}" for ${r.decl.name} of account ${account}. Available: ${names.length ? names.join(', ') : 'none'}.`] });
  }
  return templateLayout(r.decl, r.ctx.params, t);
}

/**
 * Sends a prepared report as a CSV or XLSX download. Everything that can be refused
 * (validation, scope, the query itself) has failed before this point with a JSON error;
 * from here a failure can only abort the transfer, so the client sees a broken download,
 * never a short file that looks complete.
 */
export async function sendExport(req: FastifyRequest, reply: FastifyReply, engine: ReportEngine, r: PreparedReport, settings: ExportSettings = {}): Promise<FastifyReply> {
  const format = r.ctx.params.format === 'xlsx' ? 'xlsx' : 'csv';
  const columns = layoutOf(r, settings.templates);
  const rows = await engine.stream(r);
  const out = new PassThrough();
  const writing = format === 'csv'
    ? writeCsv(out, columns, rows.chunks, { bom: r.ctx.params.bom })
    : writeXlsx(out, columns, rows.chunks, { sheetName: r.decl.name, maxRowsPerSheet: settings.xlsxRowsPerSheet });
  writing.catch((err: unknown) => {
    req.log.error({ err, reqId: req.id, report: r.decl.name }, 'export failed after the response started; aborting it');
    rows.close();
    out.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  // A client that goes away destroys the stream; the writer sees it and stops the query.
  out.on('close', () => {
    if (!out.writableFinished) rows.close();
  });
  return reply
    .header('content-type', CONTENT_TYPES[format])
    .header('content-disposition', `attachment; filename="${exportFilename(r, format)}"`)
    .header('cache-control', 'no-store')
    .send(out);
}
