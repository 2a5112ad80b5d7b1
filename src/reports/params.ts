import { DateTime, IANAZone } from 'luxon';
import { ValidationError } from '../errors.ts';


export type GroupBy = 'day' | 'week' | 'hour';

/** The parameters a report can declare that it takes. */
export type ParamName =
  | 'campaign_id' | 'date_from' | 'date_to' | 'agent_ids' | 'team_id' | 'timezone' | 'group_by' | 'window_minutes' | 'account_id'
  | 'format' | 'bom' | 'template' | 'direction' | 'status' | 'limit' | 'cursor'
  | 'days' | 'from_date' | 'to_date' | 'customer_id' | 'page' | 'page_size' | 'month';

export type Format = 'json' | 'csv' | 'xlsx';

export interface ReportParams {
  campaignId: number | null;
  agentIds: number[] | null;
  teamId: number | null;
  accountId: number | null;
  timezone: string;
  groupBy: GroupBy;
  windowMinutes: number;
  /** The window [from, to) as instants; null for reports without dates. */
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
  customerId: number | null;
  /** Paginated lists (campaign report summary): 1-based page and its size. */
  page: number;
  pageSize: number;
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

export const MAX_SPAN_DAYS = 90;
/** from_date..to_date reports (widgets, partner analytics) cover at most a year. */
export const MAX_DAY_RANGE = 366;
export const DEFAULT_DAY_RANGE = 30;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/;
const MAX_IDS = 100;

/**
 * The problems of a request, by field. A Map, so a query key named like an
 * Object.prototype member (`constructor`, `__proto__`) is a field like any other.
 */
class Collector {
  private readonly byField = new Map<string, string[]>();
  add(field: string, message: string): void {
    const list = this.byField.get(field);
    if (list) list.push(message);
    else this.byField.set(field, [message]);
  }
  has(field: string): boolean {
    return this.byField.has(field);
  }
  get failed(): boolean {
    return this.byField.size > 0;
  }
  /** One key per bad field, as own properties (Object.fromEntries defines `__proto__` as data too). */
  get errors(): Record<string, string[]> {
    return Object.fromEntries(this.byField);
  }
}

/** Request dates are years 1970–2100: beyond them no report has data, and DuckDB's times overflow. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2100;
const yearOf = (raw: string) => Number(raw.slice(0, 4));
const inYears = (raw: string) => yearOf(raw) >= MIN_YEAR && yearOf(raw) <= MAX_YEAR;
const yearsMessage = (field: string) => `The ${field} must be a date between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31.`;

/** The value of a query key as the server reads it (Object.hasOwn: never an inherited member). */
function own(q: Query, key: string): string | string[] | undefined {
  return Object.hasOwn(q, key) ? q[key] : undefined;
}

function single(c: Collector, q: Query, field: string): string | undefined {
  const v = own(q, field);
  if (Array.isArray(v)) {
    c.add(field, `The ${field} may be given only once.`);
    return undefined;
  }
  return v;
}

function oneOf(c: Collector, field: string, raw: string | undefined, allowed: readonly string[] | undefined): string | null {
  if (raw === undefined || raw === '' || !allowed) return null;
  if (allowed.includes(raw)) return raw;
  c.add(field, `The ${field} must be one of: ${allowed.join(', ')}.`);
  return null;
}

function positiveInt(c: Collector, field: string, raw: string | undefined, label = field): number | null {
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    c.add(field, `The ${label} must be a positive integer.`);
    return null;
  }
  return Number(raw);
}

/** A positive integer parameter up to `max`, or `fallback` when absent. */
function boundedInt(c: Collector, q: Query, field: string, fallback: number, max: number, tooLarge: string): number {
  const raw = single(c, q, field);
  if (raw === undefined || raw === '') return fallback;
  const n = positiveInt(c, field, raw);
  if (n !== null && n > max) c.add(field, tooLarge);
  return n !== null && n <= max ? n : fallback;
}

/**
 * A request date in `zone`: a date-only value is that local day (its end, the next
 * local midnight, when `end`); a timestamp with Z or an offset is that instant; one
 * without is local wall-clock time.
 */
export function parseRequestDate(raw: string, zone: string, end: boolean): DateTime | null {
  if (DATE_ONLY.test(raw)) {
    const d = DateTime.fromISO(raw, { zone });
    if (!d.isValid) return null;
    return end ? d.plus({ days: 1 }) : d;
  }
  if (!DATE_TIME.test(raw)) return null;
  const d = DateTime.fromISO(raw.replace(' ', 'T'), { zone, setZone: HAS_ZONE.test(raw) });
  return d.isValid ? d.setZone(zone) : null;
}

/** Milliseconds of local wall-clock time: a DST change inside a span neither adds nor removes an hour. */
function wallClockMs(d: DateTime): number {
  return Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.millisecond);
}

export function isValidZone(zone: string): boolean {
  return zone.length < 64 && IANAZone.isValidZone(zone);
}

/**
 * What is wrong with a billing month, or null: `YYYY-MM`, within the years 1970–2100,
 * and begun somewhere: its first instant on the earliest clock (UTC+14) is not ahead of `now`.
 */
export function monthProblem(m: string, now: Date): string | null {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) return 'The month must be a month as YYYY-MM (e.g. 2026-06).';
  if (!inYears(m)) return `The month must be between ${MIN_YEAR}-01 and ${MAX_YEAR}-12.`;
  if (DateTime.fromISO(`${m}-01`, { zone: 'Etc/GMT-14' }).toMillis() > now.getTime()) return `The month ${m} has not begun yet.`;
  return null;
}

/**
 * Validates a query against the parameters a report takes. Every problem is collected
 * so the client sees all of them at once; a parameter the report does not take is an
 * error too, never a silently ignored filter.
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

  const zoneRaw = single(c, query, 'timezone');
  let timezone = 'UTC';
  if (zoneRaw !== undefined && zoneRaw !== '') {
    if (isValidZone(zoneRaw)) timezone = zoneRaw;
    else c.add('timezone', `The timezone must be a valid IANA timezone name (e.g. UTC, Asia/Ho_Chi_Minh).`);
  }
  // With a bad timezone the dates are still checked (as UTC), so every bad field shows at once.
  const zoneOk = !c.has('timezone');

  const campaignId = positiveInt(c, 'campaign_id', single(c, query, 'campaign_id'));
  const teamId = positiveInt(c, 'team_id', single(c, query, 'team_id'));
  const accountId = positiveInt(c, 'account_id', single(c, query, 'account_id'));

  let agentIds: number[] | null = null;
  const rawAgents = [own(query, 'agent_ids[]'), own(query, 'agent_ids')].flat().filter((v): v is string => v !== undefined && v !== '');
  if (rawAgents.length > 0) {
    const parts = rawAgents.flatMap((v) => v.split(',')).map((v) => v.trim());
    if (parts.length > MAX_IDS) c.add('agent_ids', `The agent_ids may not have more than ${MAX_IDS} items.`);
    agentIds = [];
    parts.forEach((p, i) => {
      // An empty item (`1,,2`) is an error too, never an item that is skipped.
      const id = p === '' ? (c.add('agent_ids', `The agent_ids.${i} must be a positive integer.`), null) : positiveInt(c, 'agent_ids', p, `agent_ids.${i}`);
      if (id !== null) agentIds!.push(id);
    });
    agentIds = [...new Set(agentIds)];
  }

  let groupBy: GroupBy = 'day';
  const g = single(c, query, 'group_by');
  if (g !== undefined && g !== '') {
    if (g === 'day' || g === 'week' || g === 'hour') groupBy = g;
    else c.add('group_by', 'The group_by must be one of: day, week, hour.');
  }

  const windowMinutes = boundedInt(c, query, 'window_minutes', 43_200, 525_600, 'The window_minutes may not be greater than 525600 (one year).');

  const formats = opts.formats ?? ['json'];
  let format: Format = formats[0];
  const f = single(c, query, 'format');
  if (f !== undefined && f !== '') {
    if ((formats as readonly string[]).includes(f)) format = f as Format;
    else c.add('format', `The format must be one of: ${formats.join(', ')}.`);
  }
  let bom = false;
  const b = single(c, query, 'bom');
  if (b !== undefined && b !== '') {
    if (b === '1' || b === '0') bom = b === '1';
    else c.add('bom', 'The bom must be 0 or 1.');
    if (bom && format !== 'csv') c.add('bom', 'The bom applies to format=csv only.');
  }
  let template: string | null = null;
  const tpl = single(c, query, 'template');
  if (tpl !== undefined && tpl !== '') {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tpl)) c.add('template', 'The template must be a name of letters, digits, _ or - (at most 64).');
    else if (format === 'json') c.add('template', 'The template applies to format=csv or format=xlsx only.');
    else template = tpl;
  }
  const direction = oneOf(c, 'direction', single(c, query, 'direction'), opts.domains?.direction);
  const status = oneOf(c, 'status', single(c, query, 'status'), opts.domains?.status);
  const maxLimit = opts.maxLimit ?? 10_000;
  let limit = opts.defaultLimit ?? 1_000;
  const l = single(c, query, 'limit');
  if (l !== undefined && l !== '') {
    const n = positiveInt(c, 'limit', l);
    if (n !== null && n > maxLimit) c.add('limit', `The limit may not be greater than ${maxLimit}.`);
    else if (n !== null) limit = n;
  }
  const cur = single(c, query, 'cursor');
  const cursor = cur === undefined || cur === '' ? null : cur;

  let from: DateTime | null = null;
  let to: DateTime | null = null;
  if (takes.has('date_from')) {
    const date = (field: 'date_from' | 'date_to', end: boolean): DateTime | null => {
      const raw = single(c, query, field);
      if (!raw) return null;
      const d = parseRequestDate(raw, timezone, end);
      if (!d) c.add(field, `The ${field} is not a valid date (YYYY-MM-DD or ISO 8601 date-time).`);
      else if (!inYears(raw)) c.add(field, yearsMessage(field));
      else return d;
      return null;
    };
    from = date('date_from', false);
    to = date('date_to', true);
    const rawTo = single(c, query, 'date_to');
    if (from && to && rawTo && zoneOk) {
      const toStart = DATE_ONLY.test(rawTo) ? to.minus({ days: 1 }) : to;
      if (toStart < from) c.add('date_to', 'The date_to must be a date after or equal to date_from.');
      else if (wallClockMs(to) - wallClockMs(from) > MAX_SPAN_DAYS * 86_400_000) {
        c.add('date_to', `The date_from..date_to range may not exceed ${MAX_SPAN_DAYS} days.`);
      }
    }
  }

  const days = boundedInt(c, query, 'days', DEFAULT_DAY_RANGE, MAX_DAY_RANGE, `The days must be between 1 and ${MAX_DAY_RANGE}.`);
  const customerId = positiveInt(c, 'customer_id', single(c, query, 'customer_id'));
  const page = positiveInt(c, 'page', single(c, query, 'page')) ?? 1;
  const pageSize = boundedInt(c, query, 'page_size', 25, 100, 'The page_size may not be greater than 100.');
  let month: string | null = null;
  const m = single(c, query, 'month');
  if (m !== undefined && m !== '') {
    const problem = monthProblem(m, opts.now ?? new Date());
    if (problem) c.add('month', problem);
    else month = m;
  }

  if (takes.has('from_date')) {
    // Local days in `timezone`; the default is the 30 days ending today.
    const day = (field: 'from_date' | 'to_date') => {
      const raw = single(c, query, field);
      if (raw === undefined || raw === '') return null;
      const v = DATE_ONLY.test(raw) ? DateTime.fromISO(raw, { zone: timezone }) : null;
      if (!v || !v.isValid) {
        c.add(field, `The ${field} must be a date in format YYYY-MM-DD.`);
        return undefined;
      }
      if (!inYears(raw)) {
        c.add(field, yearsMessage(field));
        return undefined;
      }
      return v;
    };
    const first = day('from_date');
    const last = day('to_date');
    if (first !== undefined && last !== undefined && zoneOk) {
      const today = DateTime.fromJSDate(opts.now ?? new Date(), { zone: timezone }).startOf('day');
      const lastDay = last ?? (first ? DateTime.max(today, first) : today);
      const firstDay = first ?? lastDay.minus({ days: DEFAULT_DAY_RANGE - 1 });
      if (lastDay < firstDay) c.add('to_date', 'The to_date must be a date after or equal to from_date.');
      else if (lastDay.diff(firstDay, 'days').days + 1 > MAX_DAY_RANGE) c.add('to_date', `The from_date..to_date range may not exceed ${MAX_DAY_RANGE} days.`);
      else {
        from = firstDay;
        to = lastDay.plus({ days: 1 });
      }
    }
  }

  if (c.failed) throw new ValidationError(c.errors);
  return {
    campaignId, agentIds, teamId, accountId, timezone, groupBy, windowMinutes, from, to, format, bom, template, direction, status, limit, cursor,
    days, customerId, page, pageSize, month,
  };
}
