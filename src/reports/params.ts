import type { DateTime } from 'luxon';
import { ValidationError } from '../errors.ts';
import { defaults, PARAMS } from './param-catalog.ts';
import { Collector, own, type Reading } from './param-read.ts';

export {
  DEFAULT_DAY_RANGE, isValidZone, MAX_DAY_RANGE, MAX_SPAN_DAYS, MAX_YEAR, MIN_YEAR, monthProblem, parseRequestDate,
} from './param-read.ts';

export type GroupBy = 'day' | 'week' | 'hour';

/** The parameters a report can declare that it takes (described in param-catalog.ts). */
export type ParamName =
  | 'campaign_id' | 'date_from' | 'date_to' | 'agent_ids' | 'team_id' | 'timezone' | 'group_by' | 'window_minutes' | 'account_id'
  | 'format' | 'bom' | 'template' | 'direction' | 'status' | 'limit' | 'cursor'
  | 'days' | 'from_date' | 'to_date' | 'customer_id' | 'page' | 'page_size' | 'month';

export type Format = 'json' | 'csv' | 'xlsx';

/** A request's values, under the names of its parameters. */
export interface ReportParams {
  campaign_id: number | null;
  agent_ids: number[] | null;
  team_id: number | null;
  account_id: number | null;
  timezone: string;
  group_by: GroupBy;
  window_minutes: number;
  /** The window [from, to) as instants, from the date parameters or the report's window hook; null for reports without one. */
  from: DateTime | null;
  to: DateTime | null;
  format: Format;
  /** CSV only: start with a UTF-8 byte order mark, for Excel. */
  bom: boolean;
  /** An export layout of the caller's account (templates/), or null for the generic one. */
  template: string | null;
  direction: string | null;
  status: string | null;
  /** JSON page size and keyset cursor, for paginated reports. */
  limit: number;
  cursor: string | null;
  /** Company dashboard: the last `days` × 24 h. */
  days: number;
  /** Widgets: the one customer (account) asked for, narrowing the scope. */
  customer_id: number | null;
  /** Paginated lists (campaign report summary): 1-based page and its size. */
  page: number;
  page_size: number;
  /** Billing: the month asked for, `YYYY-MM`. */
  month: string | null;
}

export interface ParseOptions {
  /** Formats the endpoint serves; `json` only unless the report can be exported. */
  formats?: readonly Format[];
  /** Allowed values of the `direction` and `status` filters. */
  domains?: { direction?: readonly string[]; status?: readonly string[] };
  defaultLimit?: number;
  maxLimit?: number;
  /** "Today" for from_date/to_date defaults. */
  now?: Date;
}

export type Query = Record<string, string | string[] | undefined>;

/**
 * Validates a query against the parameters a report takes: the reader of each, in the
 * catalogue's order. Every problem is collected so the client sees all of them at once;
 * a parameter the report does not take is an error too, never a silently ignored filter.
 */
export function parseParams(query: Query, accepted: readonly ParamName[], required: readonly ParamName[] = [], opts: ParseOptions = {}): ReportParams {
  const c = new Collector();
  const takes = new Set<string>(accepted);
  // Export options come with the export formats.
  if (opts.formats?.includes('csv')) takes.add('bom');
  if (opts.formats?.some((f) => f !== 'json')) takes.add('template');
  for (const key of Object.keys(query)) {
    const name = key === 'agent_ids[]' ? 'agent_ids' : key;
    if (!takes.has(name)) c.add(name, `The ${name} parameter is not accepted by this report.`);
    // An empty value is never "no filter": a silent fallback looks plausible and is wrong.
    else if ([query[key]].flat().some((v) => v === '')) c.add(name, `The ${name} field must not be empty.`);
  }
  for (const r of required) {
    const present = r === 'agent_ids' ? own(query, 'agent_ids[]') ?? own(query, 'agent_ids') : own(query, r);
    if (present === undefined && !c.has(r)) c.add(r, `The ${r} field is required.`);
  }
  const reading: Reading = { c, query, opts, takes, v: defaults(opts.formats ?? ['json'], opts.defaultLimit ?? 1_000), scratch: {} };
  for (const [name, spec] of Object.entries(PARAMS)) if (takes.has(name)) spec.read(reading);
  if (c.failed) throw new ValidationError(c.errors);
  return reading.v;
}
