import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { readSql } from '../store/sql-files.ts';
import type { Params, ResultRow, Store } from '../store/duckdb.ts';
import { shapeRow, utcSql, type ReportContext, type ReportDeclaration } from './declaration.ts';
import { ValidationError } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { parseParams, type Format, type Query, type ReportParams } from './params.ts';
import { checkFilters, resolveScope } from './scope.ts';
import { PARAM_SQL_TYPES, PARAMS } from './param-catalog.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { cutWindow, timeSlices } from './time-slices.ts';

/** A validated, scoped request of a report, ready to run. */
export interface PreparedReport {
  readonly decl: ReportDeclaration;
  readonly ctx: ReportContext;
  readonly sql: string;
  readonly bound: Params;
}

/** A report's rows as a stream of chunks of plain rows (see Store.openStream). */
export interface ReportStream {
  readonly chunks: AsyncGenerator<ResultRow[], void, undefined>;
  close(): void;
}

/** The SQL types of the request's values (the parameter catalogue) and of the engine's own bindings. */
export const BOUND_TYPES = {
  ...PARAM_SQL_TYPES, from: 'varchar', to: 'varchar', after_started: 'varchar', after_id: 'bigint', now: 'varchar', partner_id: 'bigint', slice_rows: 'bigint',
} as const;

/** Which formats a report is served in. */
export function formatsOf(decl: ReportDeclaration): Format[] {
  return (decl.exportable ?? decl.result !== 'custom') ? ['json', 'csv', 'xlsx'] : ['json'];
}

/** The formats a report's endpoint serves: as it declares them, or as the report allows. */
export function servedFormats(decl: ReportDeclaration): readonly Format[] {
  return decl.endpoint?.formats ?? formatsOf(decl);
}

/** Runs declared reports: validate, scope, bind, query, shape. */
export class ReportEngine {
  private exports = 0;

  /** Paged exports being read right now; a finished or abandoned one is not counted. */
  get exportsInFlight(): number {
    return this.exports;
  }

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
    /** Rows per export slice instead of the declaration's `streamPage`: tests inject a small one. */
    private readonly sliceRows?: number,
  ) {}

  /** The rows an export slice of a windowed keyset report aims at. */
  slicePage(r: PreparedReport): number {
    return this.sliceRows ?? r.decl.keyset?.streamPage ?? 0;
  }

  /**
   * Validates the query (422), resolves the scope and the id filters (404) and binds
   * the SQL: everything that can fail before a single byte of the response is sent.
   */
  async prepare(decl: ReportDeclaration, query: Query, who: Principal, formats: readonly Format[] = formatsOf(decl)): Promise<PreparedReport> {
    const now = this.now();
    const params = parseParams(query, decl.params, decl.required, {
      formats, domains: decl.domains, defaultLimit: decl.keyset?.defaultLimit, maxLimit: decl.keyset?.maxLimit, now,
    });
    const after = decl.keyset ? decodeCursor(params.cursor) : null;
    if (decl.window) Object.assign(params, decl.window(DateTime.fromJSDate(now, { zone: 'UTC' }), params));
    if (params.account_id !== null && params.customer_id !== null && params.account_id !== params.customer_id) {
      throw new ValidationError({ customer_id: ['Give account_id or customer_id, not two different accounts.'] });
    }
    const accounts = params.customer_id !== null
      ? await resolveScope(this.store, who, params.customer_id, 'customer')
      : await resolveScope(this.store, who, params.account_id);
    await checkFilters(this.store, params, accounts);
    const ctx: ReportContext = { params, accounts, now };
    // The engine's own values (scope, window, clock), then each declared parameter's.
    const bound: Record<string, Params[string]> = {
      accounts,
      from: params.from ? utcSql(params.from) : null,
      to: params.to ? utcSql(params.to) : null,
      now: utcSql(DateTime.fromJSDate(now, { zone: 'UTC' })),
      partner_id: who.partnerId,
    };
    for (const name of decl.params) {
      const sql = PARAMS[name].sql;
      if (sql) bound[sql.name] = params[name as keyof ReportParams] as Params[string];
    }
    if (decl.keyset) Object.assign(bound, { after_started: after?.[0] ?? null, after_id: after?.[1] ?? null });
    if (decl.batch) bound[decl.batch.list] = [params[decl.batch.param] as number];
    Object.assign(bound, decl.sqlParams?.(ctx) ?? {});
    return { decl, ctx, sql: readSql(decl.sql), bound };
  }

  /** Validates the query and runs the report; the result is the `data` of the response. */
  async run(decl: ReportDeclaration, query: Query, who: Principal): Promise<unknown> {
    return this.json(await this.prepare(decl, query, who));
  }

  /** The `data` of the JSON response of a prepared report. */
  async json(r: PreparedReport): Promise<unknown> {
    return this.data(r, await this.store.allWindowed(r.sql, r.bound, BOUND_TYPES));
  }

  private data(r: PreparedReport, rows: ResultRow[]): unknown {
    const columns = (row: Record<string, unknown>) => shapeRow(row, r.decl.columns);
    if (r.decl.result === 'custom' && r.decl.shape) return r.decl.shape(rows, columns, r.ctx);
    if (r.decl.result === 'object') return columns(rows[0] ?? {});
    return rows.map(columns);
  }

  /**
   * The JSON bodies of a batched report (`decl.batch`) for each of `values`, from one query:
   * by value, those the caller's scope holds. The query is checked as a request naming the
   * first value (422 and 404 as there); each body is what `body` answers for a request
   * naming its value (the test compares them).
   */
  async batch(decl: ReportDeclaration, query: Query, who: Principal, values: readonly number[]): Promise<Map<number, unknown>> {
    const b = decl.batch;
    if (!b || (decl.endpoint?.envelope ?? 'data') !== 'data') throw new Error(`${decl.family}/${decl.name} is not a batched report`);
    if (values.length === 0) return new Map();
    const r = await this.prepare(decl, { ...query, [b.param]: String(values[0]) }, who, ['json']);
    const rows = await this.store.allWindowed(r.sql, { ...r.bound, [b.param]: null, [b.list]: [...values] }, BOUND_TYPES);
    const byKey = new Map<number, ResultRow[]>();
    for (const row of rows) {
      const key = Number(row[b.key]);
      byKey.set(key, [...(byKey.get(key) ?? []), row]);
    }
    return new Map([...byKey].map(([key, rs]) => [key, { data: this.data({ ...r, ctx: { ...r.ctx, params: { ...r.ctx.params, [b.param]: key } } }, rs) }]));
  }

  /** One page of a keyset-paginated report: `{data, next_cursor}`. */
  /** A prepared report's JSON answer in its endpoint's envelope: what the API sends and the console shows. */
  async body(r: PreparedReport): Promise<unknown> {
    const decl = r.decl;
    switch (decl.endpoint?.envelope ?? 'data') {
      case 'data': return { data: await this.json(r) };
      case 'body': return this.json(r);
      case 'page': return this.page(r);
      case 'widget': return { dataset: decl.name, datasources: [{ datasource: 0, data: await this.json(r) }] };
    }
  }

  async page(r: PreparedReport): Promise<{ data: unknown[]; next_cursor: string | null }> {
    const ks = r.decl.keyset!;
    const limit = r.ctx.params.limit;
    const rows = await this.store.all(r.sql, { ...r.bound, limit: limit + 1 }, BOUND_TYPES);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      data: page.map((row) => shapeRow(row, r.decl.columns)),
      next_cursor: more && last ? encodeCursor([String(last[ks.order[0]]), Number(last[ks.order[1]])]) : null,
    };
  }

  /** Counts an export in flight until the returned function is called (once is enough). */
  private countExport(): () => void {
    this.exports++;
    let counted = true;
    return () => {
      if (counted) this.exports--;
      counted = false;
    };
  }

  /** DuckDB's SQL type of each column of a prepared report, by name. */
  async columnTypes(r: PreparedReport): Promise<Map<string, string>> {
    const probe = await this.store.openStream(`SELECT * FROM (${r.sql}) LIMIT 0`, r.bound, BOUND_TYPES);
    probe.close();
    return new Map(probe.names.map((n, i) => [n, probe.types[i]]));
  }

  /**
   * Each time slice of a windowed keyset report COPY'd by DuckDB to a temporary file with
   * `options` (the file format is the caller's: src/export/): `select(before)` is the
   * slice's query over the report's SQL, `before` the rows of the slices before it, known
   * only when one slice is written at a time (`ahead` 1); `ahead` slices are written at
   * once (see timeSlices), each of about `rows` rows (the report's page unless given). A
   * report without keyset pages (the campaign download, the telesales reports) is one
   * slice: its whole query COPY'd at once, which DuckDB writes on every core. Null for a
   * keyset report without a time window, which is read page by page instead. The files
   * live in a directory removed on close.
   */
  copySlices(r: PreparedReport, select: (before: number) => string, options: string, opts: { rows?: number; ahead: number }): SliceFiles | null {
    const target = opts.rows ?? this.slicePage(r);
    const start = epochMs(r.bound.from);
    const end = epochMs(r.bound.to);
    const windowed = r.decl.keyset !== undefined && !Number.isNaN(start) && !Number.isNaN(end);
    if (r.decl.keyset && !windowed) return null;
    const ahead = windowed ? opts.ahead : 1;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callboard-slices-'));
    const store = this.store;
    const bounds = async () => (windowed ? this.sliceBounds(r, target) : [0, 1]);
    let n = 0;
    let written = 0;
    const fetch = async (lo: number, hi: number): Promise<SliceFile> => {
      const file = path.join(dir, `${n++}.slice`);
      // With slices written at once the count is unknown: NaN, which no SQL accepts.
      const copy = `COPY (${select(ahead === 1 ? written : Number.NaN)}) TO '${file.replace(/'/g, "''")}' ${options}`;
      const [result] = await store.all(copy, windowed ? { ...r.bound, ...sliceParams(lo, hi) } : r.bound, BOUND_TYPES);
      const rows = Number(Object.values(result ?? {})[0] ?? 0);
      written += rows;
      return { file, rows };
    };
    const done = this.countExport();
    const remove = (s: SliceFile) => fs.rmSync(s.file, { force: true });
    async function* files(): AsyncGenerator<SliceFile, void, undefined> {
      try {
        yield* timeSlices(await bounds(), fetch, remove, ahead);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        done();
      }
    }
    const it = files();
    return { files: it, close: () => { done(); void it.return(); } };
  }

  /** The rows of a prepared report as a stream, for exports of any size. */
  async stream(r: PreparedReport): Promise<ReportStream> {
    if (r.decl.keyset) return this.pagedStream(r);
    const q = await this.openRows(r.sql, r.bound);
    return { chunks: q.chunks, close: q.close };
  }

  /**
   * A query's rows as plain objects, chunk by chunk. DuckDB writes each row as one JSON
   * array text and JS parses it natively: the node client's value-by-value conversion
   * of a 24-column row cost four times as much as the query itself.
   */
  private async openRows(sql: string, bound: Params): Promise<{ names: string[]; chunks: AsyncGenerator<ResultRow[], void, undefined>; close(): void }> {
    const probe = await this.store.openStream(`SELECT * FROM (${sql}) LIMIT 0`, bound, BOUND_TYPES);
    const names = probe.names;
    probe.close();
    const json = `SELECT json_array(${names.map((n) => `"${n.replace(/"/g, '""')}"`).join(', ')})::VARCHAR FROM (${sql})`;
    const q = await this.store.openStream(json, bound, BOUND_TYPES);
    async function* objects(): AsyncGenerator<ResultRow[], void, undefined> {
      for await (const rows of q.chunks) {
        yield rows.map((values) => {
          const parsed = JSON.parse(values[0] as string) as unknown[];
          const row: ResultRow = {};
          for (let i = 0; i < names.length; i++) row[names[i]] = parsed[i];
          return row;
        });
      }
    }
    const chunks = objects();
    return { names, chunks, close: () => { q.close(); void chunks.return(); } };
  }

  /**
   * Where a windowed keyset report's exports cut its window: the bounds (epoch ms) of
   * slices of about `rows` rows each, as its declaration's `slices` SQL places them. A
   * sync that lands between this count and the slices' queries changes their sizes only:
   * the bounds tile the window whatever rows it holds.
   */
  async sliceBounds(r: PreparedReport, rows: number): Promise<number[]> {
    const file = r.decl.keyset?.slices;
    const cuts = file ? await this.store.all(readSql(file), { ...r.bound, slice_rows: rows }, BOUND_TYPES) : [];
    return cutWindow(epochMs(r.bound.from), epochMs(r.bound.to), cuts.map((c) => Number(c.cut)));
  }

  /**
   * Every row of a keyset report, read page after page. A page is a slice of the window
   * in time, [lo, hi) on the report's time column, so DuckDB reads only that slice's row
   * groups and sorts only its rows: a top-N after a keyset read every row to the window's
   * end for every page (2 s a page of 50,000 on 10M calls). The slices are cut to hold
   * about `streamPage` rows each (sliceBounds), so memory stays near one page whatever
   * the window holds. As soon as a page is in, the next one is asked for,
   * so DuckDB computes it while this one is formatted and sent.
   */
  private async pagedStream(r: PreparedReport): Promise<ReportStream> {
    const ks = r.decl.keyset!;
    const store = this.store;
    const bounds = () => this.sliceBounds(r, this.slicePage(r));
    const probe = await store.openStream(`SELECT * FROM (${r.sql}) LIMIT 0`, r.bound, BOUND_TYPES);
    const names = probe.names;
    probe.close();
    const json = `SELECT json_array(${names.map((n) => `"${n.replace(/"/g, '""')}"`).join(', ')})::VARCHAR AS j FROM (${r.sql})`;
    const start = epochMs(r.bound.from);
    const keyAt = [names.indexOf(ks.order[0]), names.indexOf(ks.order[1])];
    const fetchPage = async (lo: number, hi: number, after: [string, number] | null = null): Promise<string[]> => {
      const window: Params = Number.isNaN(start)
        // A report without a time window pages by its keyset alone.
        ? { after_started: after?.[0] ?? null, after_id: after?.[1] ?? null, limit: ks.streamPage }
        : sliceParams(lo, hi);
      const rows = await store.all(json, { ...r.bound, ...window }, BOUND_TYPES);
      return rows.map((row) => row.j as string);
    };
    let closed = false;
    const done = this.countExport();
    async function* pages(): AsyncGenerator<ResultRow[], void, undefined> {
      try {
        yield* pageRows();
      } finally {
        done();
      }
    }
    async function* slices(): AsyncGenerator<string[], void, undefined> {
      if (!Number.isNaN(start)) {
        yield* timeSlices(await bounds(), (lo, hi) => fetchPage(lo, hi));
        return;
      }
      let page = await fetchPage(0, 0);
      for (;;) {
        const last = page.length === ks.streamPage ? (JSON.parse(page[page.length - 1]) as unknown[]) : null;
        const ahead = last ? fetchPage(0, 0, [String(last[keyAt[0]]), Number(last[keyAt[1]])]) : null;
        ahead?.catch(() => undefined);
        yield page;
        if (!ahead) return;
        page = await ahead;
      }
    }
    async function* pageRows(): AsyncGenerator<ResultRow[], void, undefined> {
      for await (const page of slices()) {
        for (let at = 0; at < page.length; at += 2048) {
          if (closed) return;
          yield page.slice(at, at + 2048).map((text) => {
            const values = JSON.parse(text) as unknown[];
            const row: ResultRow = {};
            for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
            return row;
          });
        }
        if (closed) return;
      }
    }
    const chunks = pages();
    return { chunks, close: () => { closed = true; done(); void chunks.return(); } };
  }
}

/** A bound SQL time (`2026-11-01 04:00:00.000`, UTC) as epoch ms; NaN when absent. */
const epochMs = (sqlTime: unknown) => Date.parse(`${String(sqlTime).replace(' ', 'T')}Z`);
const sqlTime = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');
/** A keyset report's parameters for the whole time slice [lo, hi). */
const sliceParams = (lo: number, hi: number): Params =>
  ({ from: sqlTime(lo), to: sqlTime(hi), after_started: null, after_id: null, limit: null });

/** A file DuckDB wrote for one time slice of an export, and its data rows. */
export interface SliceFile {
  readonly file: string;
  readonly rows: number;
}

export interface SliceFiles {
  /** The slices in order; the consumer deletes each file once sent. */
  readonly files: AsyncGenerator<SliceFile, void, undefined>;
  close(): void;
}

