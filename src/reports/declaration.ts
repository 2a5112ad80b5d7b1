import type { DateTime } from 'luxon';
import type { ResultRow } from '../store/duckdb.ts';
import { hms, ratioNumber, ratioString } from './format.ts';
import type { Format, ParamName, ReportParams } from './params.ts';

/**
 * How one output field is made from a SQL row, and how it is typed in JSON.
 * `from` names the SQL column when it differs from the output key.
 */
export type ColumnType =
  | { kind: 'integer'; from?: string; nullable?: boolean }
  | { kind: 'integer_string'; from?: string }
  | { kind: 'string'; from?: string }
  | { kind: 'boolean'; from?: string }
  /** A decimal the SQL returns as text, written as a JSON number (limits such as 2.5). */
  | { kind: 'decimal_number'; from?: string }
  /** num × scale / den, rounded half away from zero to `digits`, as a string or a number. */
  | { kind: 'ratio'; num: string; den: string; scale: 1 | 100; digits: number; as: 'string' | 'number' }
  | { kind: 'duration'; from?: string };

/**
 * How a column is written to a spreadsheet cell. Most follow from the column type; text
 * columns that hold dates, local date-times or phone numbers say so (`cell`).
 */
export type CellKind = 'integer' | 'id' | 'number' | 'percent' | 'duration' | 'text' | 'date' | 'datetime' | 'boolean';

export interface ColumnDecl {
  key: string;
  /** Header in exports. */
  label: string;
  type: ColumnType;
  description?: string;
  /** The spreadsheet cell kind when the type alone does not tell (may depend on the request). */
  cell?: CellKind | ((p: ReportParams) => CellKind);
}

export interface ReportContext {
  params: ReportParams;
  accounts: number[];
  now: Date;
}

/**
 * How a report is served over HTTP. The routes, their authentication and their OpenAPI
 * operations are built from this alone (src/http/routes/reports.ts).
 */
export interface Endpoint {
  /**
   * The URL. `:report` stands for the report's name: the report is served at the path with
   * its name filled in, and a name nobody declared gets a 404 listing the valid ones.
   */
  path: string;
  /** `bearer`: an access token (Authorization: Bearer); `partner`: X-Auth-ID and X-Auth-Token. */
  auth: 'bearer' | 'partner';
  /**
   * The JSON answer: `data` wraps the result as `{"data": …}`; `body` is the result itself
   * (a custom shape that carries its own envelope); `page` is `{"data": […], "next_cursor"}`
   * of a keyset report; `widget` is the widget API's `{"dataset", "datasources"}`.
   */
  envelope: 'data' | 'body' | 'page' | 'widget';
  /** The formats the path serves, the first one the default; `formatsOf(decl)` when absent. */
  formats?: readonly Format[];
  /**
   * A query parameter that picks one of the declarations sharing the path (the widgets'
   * `type`): missing or unknown is a 400 listing the valid values. `noun` names what is
   * picked in that answer, `title` the one OpenAPI operation of the path.
   */
  select?: { param: string; noun: string; title: string };
  /** A `{path}/export` twin serving the file formats, where `format` is required. */
  exportTwin?: boolean;
  /** The report whose rows the file formats carry, when not this one (every row behind a JSON page). */
  files?: ReportDeclaration;
  /** More sheets of the XLSX file, each the rows of another report with the same parameters. */
  sheets?: readonly { name: string; report: ReportDeclaration }[];
  /** OpenAPI: the operation's description, and the error statuses it documents (404 and 422 when absent). */
  description?: string;
  errors?: readonly number[];
}

export interface ReportDeclaration {
  family: string;
  name: string;
  title: string;
  /** Path under sql/. */
  sql: string;
  /** Parameters the report takes; anything else in the query is a 422. */
  params: readonly ParamName[];
  required?: readonly ParamName[];
  /** `rows`: `{"data": [...]}`; `object`: `{"data": {...}}` from the first row; `custom`: `shape` builds `data`. */
  result: 'rows' | 'object' | 'custom';
  /** Whether CSV and XLSX are offered (rows and object reports; never custom ones). */
  exportable?: boolean;
  /**
   * Keyset pagination: JSON answers pages of `limit` rows with a `next_cursor`; exports
   * read every page of `streamPage` rows. The SQL orders by `order` (result columns not
   * in `columns`) and takes `$after_*` and `$limit`. `slices` is the SQL file of where an
   * export cuts a time window into slices of about `$slice_rows` rows (epoch ms, `cut`);
   * without it the window is one slice.
   */
  keyset?: { order: readonly [string, string]; defaultLimit: number; maxLimit: number; streamPage: number; slices?: string };
  /** Allowed values of enum filters (`direction`, `status`). */
  domains?: { direction?: readonly string[]; status?: readonly string[] };
  columns: readonly ColumnDecl[];
  /** Where the report is served; a report without one is only a sheet or the files of another. */
  endpoint?: Endpoint;
  /** The export file name without extension, when not `{report}_{from}_{to}`. */
  filename?: (ctx: ReportContext) => string;
  /** The JSON body's schema, for OpenAPI, when it is not `{data}` of the columns. */
  responseSchema?: Record<string, unknown>;
  /**
   * A window derived from "now" (UTC) and the request instead of read from dates: the last
   * `window_minutes` (abandon-rate), the last `days` × 24 h (company dashboard), today so
   * far (partner dashboard).
   */
  window?: (now: DateTime, params: ReportParams) => { from: DateTime; to: DateTime };
  /**
   * The report answers for several values of one id parameter in a single query
   * (ReportEngine.batch): its SQL reads them as the list `$<list>` and yields the rows of
   * each value with it in the `key` column. A request binds the list to its one value
   * (and the parameter itself, as always); a batch binds the parameter to NULL.
   */
  batch?: { param: 'campaign_id'; list: string; key: string };
  /** Extra named SQL parameters computed from the request (thresholds, derived windows). */
  sqlParams?: (ctx: ReportContext) => Record<string, string | number | boolean | null>;
  shape?: (rows: ResultRow[], columns: (row: ResultRow) => Record<string, unknown>, ctx: ReportContext) => unknown;
}

function num(row: ResultRow, key: string): number {
  const v = row[key];
  return v === null || v === undefined ? 0 : Number(v);
}

/** One output value of a row, typed as the declaration says. */
export function cellValue(row: ResultRow, col: ColumnDecl): unknown {
  const t = col.type;
  switch (t.kind) {
    case 'ratio':
      return t.as === 'string' ? ratioString(num(row, t.num), num(row, t.den), t.scale, t.digits) : ratioNumber(num(row, t.num), num(row, t.den), t.scale, t.digits);
    case 'integer': {
      const v = row[t.from ?? col.key];
      return t.nullable && (v === null || v === undefined) ? null : num(row, t.from ?? col.key);
    }
    case 'integer_string':
      return String(num(row, t.from ?? col.key));
    case 'duration':
      return hms(num(row, t.from ?? col.key));
    case 'decimal_number': {
      const v = row[t.from ?? col.key];
      return v === null || v === undefined ? null : Number(v);
    }
    case 'boolean':
      return Boolean(row[t.from ?? col.key]);
    case 'string': {
      const v = row[t.from ?? col.key];
      return v === null || v === undefined ? null : String(v);
    }
  }
}

export function shapeRow(row: ResultRow, columns: readonly ColumnDecl[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.key] = cellValue(row, c);
  return out;
}

/** The JSON schema type of a column, for OpenAPI and response serialisation. */
export function jsonSchemaOf(col: ColumnDecl): { type: string | string[] } {
  switch (col.type.kind) {
    case 'integer': return { type: col.type.nullable ? ['integer', 'null'] : 'integer' };
    case 'ratio': return { type: col.type.as === 'string' ? 'string' : 'number' };
    case 'decimal_number': return { type: ['number', 'null'] };
    case 'boolean': return { type: 'boolean' };
    case 'string': return { type: ['string', 'null'] };
    default: return { type: 'string' };
  }
}

/** An instant as the UTC TIMESTAMP literal the report SQL compares with. */
export function utcSql(d: DateTime): string {
  return d.toUTC().toFormat("yyyy-MM-dd HH:mm:ss.SSS");
}
