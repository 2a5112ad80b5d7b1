import fs from 'node:fs';
import path from 'node:path';
import { views as eta } from './views.ts';
import { DateTime } from 'luxon';
import type { Principal } from '../auth/principal.ts';
import { writeReport, type ExportSettings } from '../export/report-export.ts';
import { exportFilename } from '../http/export-response.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import { servedFormats, type ReportEngine } from '../reports/engine.ts';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { queryAt, reportOf, type Subscription } from './subscriptions.ts';
import { resolveWindow } from './window.ts';


/** Rows of a report shown in an e-mail's summary; the rest are in the file. */
const SUMMARY_ROWS = 25;

export interface RenderedFile {
  /** Relative to the deliveries directory (what a signed link names). */
  rel: string;
  abs: string;
  filename: string;
  bytes: number;
  contentType: string;
}

export interface Rendered {
  subject: string;
  html: string;
  text: string;
  file: RenderedFile | null;
  /** The report's JSON answer (webhooks carry it when it is small). */
  body: unknown;
  window: { from: string; to: string; zone: string } | null;
}

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** A cell as a person reads it. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return v.toLocaleString('en-US', { maximumFractionDigits: 4 });
  if (typeof v === 'object') return Array.isArray(v) ? `${v.length} items` : JSON.stringify(v);
  return String(v);
}

/** The rows or the figures of a report's JSON answer, whatever its envelope. */
function shapeOf(decl: ReportDeclaration, body: unknown): { pairs?: [string, string][]; table?: { head: string[]; rows: string[][]; more: number | 'more' } } {
  const b = body as Record<string, unknown> | null;
  let d: unknown = b && typeof b === 'object' && 'data' in b ? b.data : b;
  if (b && typeof b === 'object' && Array.isArray(b.datasources)) d = (b.datasources as { data: unknown }[])[0]?.data;
  const label = new Map(decl.columns.map((c) => [c.key, c.label]));
  if (Array.isArray(d)) {
    const rows = d as Record<string, unknown>[];
    const keys = rows.length ? Object.keys(rows[0]).filter((k) => typeof rows[0][k] !== 'object' || rows[0][k] === null) : decl.columns.map((c) => c.key);
    return {
      table: {
        head: keys.map((k) => label.get(k) ?? k),
        rows: rows.slice(0, SUMMARY_ROWS).map((r) => keys.map((k) => cell(r[k]))),
        // A page that goes on (next_cursor) has more rows than it holds: how many, the file says.
        more: b && typeof b === 'object' && b.next_cursor ? 'more' : Math.max(0, rows.length - SUMMARY_ROWS),
      },
    };
  }
  if (d && typeof d === 'object') return { pairs: Object.entries(d as Record<string, unknown>).map(([k, v]) => [label.get(k) ?? k, cell(v)]) };
  return { pairs: [['Value', cell(d)]] };
}

/**
 * Runs a subscription's report for one occurrence, as its owner: the JSON answer for the
 * summary, and for a CSV or XLSX subscription the file, written once under
 * `<dir>/<subscription>/<occurrence>/` (a retry sends the same bytes). The window is the
 * occurrence's, read in the subscription's zone.
 */
export class DeliveryRenderer {
  private readonly inFlight = new Map<string, Promise<RenderedFile>>();

  constructor(
    private readonly engine: ReportEngine,
    private readonly catalogue: readonly ReportDeclaration[],
    private readonly dir: string,
    private readonly exports: ExportSettings = {},
  ) {}

  async render(s: Subscription, occurrence: Date, who: Principal, late: boolean, dataAsOf: string | null, linkFor: (f: RenderedFile) => { url: string; until: string } | null, maxAttachBytes: number): Promise<Rendered> {
    const decl = reportOf(this.catalogue, s.report ?? '');
    if (!decl) throw new Error(`the report ${s.report} is no longer in the catalogue`);
    const query = queryAt(decl, s, occurrence);
    const { format: _f, ...jsonQuery } = query;
    // A paged report's summary needs its first rows only (the file has them all).
    const summaryQuery = decl.keyset && decl.params.includes('limit') ? { ...jsonQuery, limit: String(SUMMARY_ROWS + 1) } : jsonQuery;
    const body = servedFormats(decl).includes('json') ? await this.engine.body(await this.engine.prepare(decl, summaryQuery, who)) : null;
    const file = s.format === 'html' ? null : await this.file(s, occurrence, decl, query, who);
    const w = s.window ? resolveWindow(s.window, s.zone, occurrence) : null;
    const runLocal = DateTime.fromJSDate(occurrence, { zone: s.zone }).toFormat("ccc d LLL yyyy HH:mm '('ZZZZ')'");
    const period = w ? (w.from === w.to ? w.from : `${w.from} to ${w.to}`) : 'as of the run';
    const title = `${decl.title}, ${period}`;
    const link = file && file.bytes > maxAttachBytes ? linkFor(file) : null;
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    // maxAttachBytes < 0: the mail server refused the attachment's size (worker.ts).
    const notice = file && file.bytes > maxAttachBytes
      ? (maxAttachBytes < 0
        ? `The file ${file.filename} (${mb(file.bytes)}) is larger than the mail server accepts, so it is not attached.`
        : `The file ${file.filename} (${mb(file.bytes)}) is larger than the ${mb(maxAttachBytes)} limit for attachments, so it is not attached.`)
      : null;
    const shape = body === null ? {} : shapeOf(decl, body);
    const view = {
      title, subtitle: `${s.name} · run of ${runLocal}`, late, runLocal, notice, link: link ? { ...link, filename: file!.filename } : null,
      ...shape, attached: file !== null && !link, subscription: s.name, dataAsOf, alert: null,
    };
    const html = eta.render('summary', view);
    const lines = [title, `${s.name} · run of ${runLocal}`, ''];
    if (late) lines.push(`This delivery is late: it is the run of ${runLocal}, missed while the service was unavailable.`, '');
    if (notice) lines.push(notice, link ? `Download it until ${link.until}: ${link.url}` : '', '');
    for (const [k, v] of shape.pairs ?? []) lines.push(`${k}: ${v}`);
    if (shape.table) {
      lines.push(shape.table.head.join('\t'), ...shape.table.rows.map((r) => r.join('\t')));
      const more = shape.table.more === 'more' ? 'more' : shape.table.more > 0 ? `${shape.table.more.toLocaleString('en-US')} more` : null;
      if (more) lines.push(`… and ${more} rows${file && !link ? ' in the attached file' : ''}.`);
    }
    lines.push('', `Data as of ${dataAsOf ?? 'unknown'}.`);
    return {
      subject: `${late ? '[late] ' : ''}${s.name}: ${title}`, html, text: lines.join('\n'), file, body,
      window: w ? { from: w.from, to: w.to, zone: s.zone } : null,
    };
  }

  /** The occurrence's file, written at most once (concurrent channels wait for the same write). */
  private file(s: Subscription, occurrence: Date, decl: ReportDeclaration, query: Record<string, unknown>, who: Principal): Promise<RenderedFile> {
    const key = `${s.id}/${occurrence.toISOString().replace(/[:.]/g, '')}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.write(key, s, decl, query, who).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async write(key: string, s: Subscription, decl: ReportDeclaration, query: Record<string, unknown>, who: Principal): Promise<RenderedFile> {
    const format = s.format as 'csv' | 'xlsx';
    const dir = path.join(this.dir, key);
    const done = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => !f.startsWith('.')) : undefined;
    if (done) {
      const abs = path.join(dir, done);
      return { rel: `${key}/${done}`, abs, filename: done, bytes: fs.statSync(abs).size, contentType: CONTENT_TYPES[format] };
    }
    // A JSON page's file is another report's, with every row (the calls); a workbook may
    // carry further sheets (billing): as the report's own download has them.
    const ep = decl.endpoint!;
    const q = { ...(query as Record<string, string>), format };
    const prepared = await this.engine.prepare(ep.files ?? decl, q, who);
    const sheets = [];
    if (format === 'xlsx' && !ep.files) for (const sh of ep.sheets ?? []) sheets.push({ name: sh.name, report: await this.engine.prepare(sh.report, q, who) });
    const filename = exportFilename(prepared, format);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `.${filename}.${process.pid}.tmp`);
    // The exports' gate (memory budget) first: a full one throws, and the delivery retries.
    const leave = this.exports.gate ? await this.exports.gate.enter() : () => undefined;
    const out = new PassThrough();
    const writing = pipeline(out, fs.createWriteStream(tmp));
    try {
      const run = await writeReport(this.engine, prepared, out, this.exports, sheets.length ? { sheets } : {});
      await run.done;
      if (!out.writableEnded) out.end();
      await writing;
    } catch (err) {
      out.destroy();
      await writing.catch(() => undefined);
      fs.rmSync(tmp, { force: true });
      throw err;
    } finally {
      leave();
    }
    // Renamed into place whole: a file that is there is complete.
    const abs = path.join(dir, filename);
    fs.renameSync(tmp, abs);
    return { rel: `${key}/${filename}`, abs, filename, bytes: fs.statSync(abs).size, contentType: CONTENT_TYPES[format] };
  }
}
