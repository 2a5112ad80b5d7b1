import { DateTime } from 'luxon';
import type { ParamTypes } from '../store/duckdb.ts';
import { CALL_STATUSES } from '../source/contract.ts';
import type { Format, ParamName, ReportParams } from './params.ts';
import {
  boundedInt, DATE_ONLY, DEFAULT_DAY_RANGE, idParam, inYears, isValidZone, MAX_DAY_RANGE, MAX_IDS, MAX_SPAN_DAYS, monthProblem,
  oneOf, own, parseRequestDate, positiveInt, single, wallClockMs, yearsMessage, type Reading,
} from './param-read.ts';
import { arr, int, str, type Schema } from './schema.ts';

/**
 * Every request parameter a report can take, described once: its documentation and JSON
 * schema (the OpenAPI document), its reader with the 422 texts, and the SQL parameter its
 * value binds to with its type. parseParams runs the readers of the parameters a report
 * takes in this object's order (the timezone first: dates are read in it); the engine
 * binds the same list.
 */
export interface ParamSpec {
  /** The query key when it is not the parameter's name (`agent_ids[]`). */
  readonly query?: string;
  readonly doc: string;
  readonly schema: Schema;
  /** Reads the value from the query into `r.v`, adding every problem to `r.c`. */
  readonly read: (r: Reading) => void;
  /** The SQL parameter the value binds to, and its DuckDB type; none for options that shape the answer only. */
  readonly sql?: { readonly name: string; readonly type: ParamTypes[string] };
}

/** Whether the request's timezone was valid: a window is only checked in a valid zone. */
const zoneOk = (r: Reading) => !r.c.has('timezone');

/** date_from / date_to: a local day of the timezone or an ISO 8601 date-time. */
function requestDate(r: Reading, field: 'date_from' | 'date_to', end: boolean): DateTime | null {
  const raw = single(r, field);
  if (!raw) return null;
  const d = parseRequestDate(raw, r.v.timezone, end);
  if (!d) r.c.add(field, `The ${field} is not a valid date (YYYY-MM-DD or ISO 8601 date-time).`);
  else if (!inYears(raw)) r.c.add(field, yearsMessage(field));
  else return d;
  return null;
}

/** from_date / to_date: a local day; null when absent, undefined when wrong. */
function localDay(r: Reading, field: 'from_date' | 'to_date'): DateTime | null | undefined {
  const raw = single(r, field);
  if (raw === undefined || raw === '') return null;
  const v = DATE_ONLY.test(raw) ? DateTime.fromISO(raw, { zone: r.v.timezone }) : null;
  if (!v || !v.isValid) {
    r.c.add(field, `The ${field} must be a date in format YYYY-MM-DD.`);
    return undefined;
  }
  if (!inYears(raw)) {
    r.c.add(field, yearsMessage(field));
    return undefined;
  }
  return v;
}

export const PARAMS: Readonly<Record<ParamName, ParamSpec>> = {
  timezone: {
    doc: 'IANA timezone of days, hours and local dates', schema: str({ default: 'UTC' }), sql: { name: 'tz', type: 'varchar' },
    read: (r) => {
      const raw = single(r, 'timezone');
      if (raw === undefined || raw === '') return;
      if (isValidZone(raw)) r.v.timezone = raw;
      // With a bad timezone the dates are still checked (as UTC), so every bad field shows at once.
      else r.c.add('timezone', `The timezone must be a valid IANA timezone name (e.g. UTC, Asia/Ho_Chi_Minh).`);
    },
  },
  campaign_id: {
    doc: 'campaign in scope (404 otherwise)', schema: int({ minimum: 1 }), sql: { name: 'campaign_id', type: 'bigint' },
    read: (r) => { r.v.campaign_id = idParam(r, 'campaign_id'); },
  },
  team_id: {
    doc: 'team in scope (its agents)', schema: int({ minimum: 1 }), sql: { name: 'team_id', type: 'bigint' },
    read: (r) => { r.v.team_id = idParam(r, 'team_id'); },
  },
  account_id: {
    doc: 'narrows the scope to one account (admins and partners)', schema: int({ minimum: 1 }),
    read: (r) => { r.v.account_id = idParam(r, 'account_id'); },
  },
  agent_ids: {
    query: 'agent_ids[]', doc: 'agents in scope, at most 100', schema: arr(int({ minimum: 1 })), sql: { name: 'agent_ids', type: 'bigint[]' },
    read: (r) => {
      const raw = [own(r.query, 'agent_ids[]'), own(r.query, 'agent_ids')].flat().filter((v): v is string => v !== undefined && v !== '');
      if (raw.length === 0) return;
      const parts = raw.flatMap((v) => v.split(',')).map((v) => v.trim());
      if (parts.length > MAX_IDS) r.c.add('agent_ids', `The agent_ids may not have more than ${MAX_IDS} items.`);
      const ids: number[] = [];
      parts.forEach((p, i) => {
        // An empty item (`1,,2`) is an error too, never an item that is skipped.
        const id = p === '' ? (r.c.add('agent_ids', `The agent_ids.${i} must be a positive integer.`), null) : positiveInt(r.c, 'agent_ids', p, `agent_ids.${i}`);
        if (id !== null) ids.push(id);
      });
      r.v.agent_ids = [...new Set(ids)];
    },
  },
  group_by: {
    doc: 'time bucket', schema: str({ enum: ['day', 'week', 'hour'], default: 'day' }), sql: { name: 'group_by', type: 'varchar' },
    read: (r) => {
      const g = single(r, 'group_by');
      if (g === undefined || g === '') return;
      if (g === 'day' || g === 'week' || g === 'hour') r.v.group_by = g;
      else r.c.add('group_by', 'The group_by must be one of: day, week, hour.');
    },
  },
  window_minutes: {
    doc: 'realtime window ending now', schema: int({ minimum: 1, maximum: 525_600, default: 43_200 }),
    read: (r) => { r.v.window_minutes = boundedInt(r, 'window_minutes', 43_200, 525_600, 'The window_minutes may not be greater than 525600 (one year).'); },
  },
  format: {
    doc: 'response format', schema: str(),
    read: (r) => {
      const formats = r.opts.formats ?? ['json'];
      const f = single(r, 'format');
      if (f === undefined || f === '') return;
      if ((formats as readonly string[]).includes(f)) r.v.format = f as Format;
      else r.c.add('format', `The format must be one of: ${formats.join(', ')}.`);
    },
  },
  bom: {
    doc: 'CSV only: start with a UTF-8 byte order mark (Excel)', schema: str({ enum: ['0', '1'] }),
    read: (r) => {
      const b = single(r, 'bom');
      if (b === undefined || b === '') return;
      if (b === '1' || b === '0') r.v.bom = b === '1';
      else r.c.add('bom', 'The bom must be 0 or 1.');
      if (r.v.bom && r.v.format !== 'csv') r.c.add('bom', 'The bom applies to format=csv only.');
    },
  },
  template: {
    doc: "an export layout of the account's templates", schema: str({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    read: (r) => {
      const tpl = single(r, 'template');
      if (tpl === undefined || tpl === '') return;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(tpl)) r.c.add('template', 'The template must be a name of letters, digits, _ or - (at most 64).');
      else if (r.v.format === 'json') r.c.add('template', 'The template applies to format=csv or format=xlsx only.');
      else r.v.template = tpl;
    },
  },
  direction: {
    doc: 'call direction', schema: str({ enum: ['outbound', 'inbound'] }), sql: { name: 'direction', type: 'varchar' },
    read: (r) => { r.v.direction = oneOf(r, 'direction', r.opts.domains?.direction); },
  },
  status: {
    doc: 'call status', schema: str({ enum: [...CALL_STATUSES] }), sql: { name: 'status', type: 'varchar' },
    read: (r) => { r.v.status = oneOf(r, 'status', r.opts.domains?.status); },
  },
  limit: {
    doc: 'JSON page size', schema: int({ minimum: 1 }), sql: { name: 'limit', type: 'bigint' },
    read: (r) => {
      const max = r.opts.maxLimit ?? 10_000;
      const n = positiveInt(r.c, 'limit', single(r, 'limit'));
      if (n !== null && n > max) r.c.add('limit', `The limit may not be greater than ${max}.`);
      else if (n !== null) r.v.limit = n;
    },
  },
  cursor: {
    doc: 'next_cursor of the previous page', schema: str(),
    read: (r) => {
      const cur = single(r, 'cursor');
      r.v.cursor = cur === undefined || cur === '' ? null : cur;
    },
  },
  date_from: {
    doc: 'YYYY-MM-DD (a local day of timezone) or an ISO 8601 date-time', schema: str(),
    read: (r) => { r.v.from = requestDate(r, 'date_from', false); },
  },
  date_to: {
    doc: `YYYY-MM-DD (includes the whole day) or an ISO 8601 date-time; at most ${MAX_SPAN_DAYS} days after date_from`, schema: str(),
    read: (r) => {
      const raw = own(r.query, 'date_to');
      const to = requestDate(r, 'date_to', true);
      r.v.to = to;
      const from = r.v.from;
      if (!from || !to || typeof raw !== 'string' || !zoneOk(r)) return;
      const toStart = DATE_ONLY.test(raw) ? to.minus({ days: 1 }) : to;
      if (toStart < from) r.c.add('date_to', 'The date_to must be a date after or equal to date_from.');
      else if (wallClockMs(to) - wallClockMs(from) > MAX_SPAN_DAYS * 86_400_000) {
        r.c.add('date_to', `The date_from..date_to range may not exceed ${MAX_SPAN_DAYS} days.`);
      }
    },
  },
  days: {
    doc: 'the last days × 24 h ending now', schema: int({ minimum: 1, maximum: MAX_DAY_RANGE, default: DEFAULT_DAY_RANGE }),
    read: (r) => { r.v.days = boundedInt(r, 'days', DEFAULT_DAY_RANGE, MAX_DAY_RANGE, `The days must be between 1 and ${MAX_DAY_RANGE}.`); },
  },
  customer_id: {
    doc: 'one customer (account) in scope', schema: int({ minimum: 1 }), sql: { name: 'customer_id', type: 'bigint' },
    read: (r) => { r.v.customer_id = idParam(r, 'customer_id'); },
  },
  page: {
    doc: 'page number', schema: int({ minimum: 1, default: 1 }), sql: { name: 'page', type: 'bigint' },
    read: (r) => { r.v.page = idParam(r, 'page') ?? 1; },
  },
  page_size: {
    doc: 'items per page', schema: int({ minimum: 1, maximum: 100, default: 25 }), sql: { name: 'page_size', type: 'bigint' },
    read: (r) => { r.v.page_size = boundedInt(r, 'page_size', 25, 100, 'The page_size may not be greater than 100.'); },
  },
  month: {
    doc: "YYYY-MM, cut in each account's timezone", schema: str({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }), sql: { name: 'month', type: 'varchar' },
    read: (r) => {
      const m = single(r, 'month');
      if (m === undefined || m === '') return;
      const problem = monthProblem(m, r.opts.now ?? new Date());
      if (problem) r.c.add('month', problem);
      else r.v.month = m;
    },
  },
  from_date: {
    doc: 'YYYY-MM-DD; default: 29 days before to_date', schema: str({ format: 'date' }),
    read: (r) => { r.scratch.firstDay = localDay(r, 'from_date'); },
  },
  to_date: {
    doc: `YYYY-MM-DD, included; default: today; at most ${MAX_DAY_RANGE} days after from_date`, schema: str({ format: 'date' }),
    // Local days in `timezone`; the default is the 30 days ending today.
    read: (r) => {
      const first = r.scratch.firstDay as DateTime | null | undefined;
      const last = localDay(r, 'to_date');
      if (first === undefined || last === undefined || !zoneOk(r)) return;
      const today = DateTime.fromJSDate(r.opts.now ?? new Date(), { zone: r.v.timezone }).startOf('day');
      const lastDay = last ?? (first ? DateTime.max(today, first) : today);
      const firstDay = first ?? lastDay.minus({ days: DEFAULT_DAY_RANGE - 1 });
      if (lastDay < firstDay) r.c.add('to_date', 'The to_date must be a date after or equal to from_date.');
      else if (lastDay.diff(firstDay, 'days').days + 1 > MAX_DAY_RANGE) r.c.add('to_date', `The from_date..to_date range may not exceed ${MAX_DAY_RANGE} days.`);
      else {
        r.v.from = firstDay;
        r.v.to = lastDay.plus({ days: 1 });
      }
    },
  },
};

/** The values of a request before its parameters are read: what a report that does not take one sees. */
export function defaults(formats: readonly Format[], defaultLimit: number): ReportParams {
  return {
    campaign_id: null, agent_ids: null, team_id: null, account_id: null, timezone: 'UTC', group_by: 'day', window_minutes: 43_200,
    from: null, to: null, format: formats[0], bom: false, template: null, direction: null, status: null, limit: defaultLimit, cursor: null,
    days: DEFAULT_DAY_RANGE, customer_id: null, page: 1, page_size: 25, month: null,
  };
}

/** The DuckDB type of every SQL parameter a request's values bind to. */
export const PARAM_SQL_TYPES: ParamTypes = Object.fromEntries(
  Object.values(PARAMS).flatMap((p) => (p.sql ? [[p.sql.name, p.sql.type]] : [])),
);
