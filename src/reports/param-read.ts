import { DateTime, IANAZone } from 'luxon';
import type { ParseOptions, Query, ReportParams } from './params.ts';

/**
 * What the parameter readers share: the limits of a request, the problems found so far,
 * and the small readers that give every field the same 422 texts.
 */

export const MAX_SPAN_DAYS = 90;
/** from_date..to_date reports (widgets, partner analytics) cover at most a year. */
export const MAX_DAY_RANGE = 366;
export const DEFAULT_DAY_RANGE = 30;
export const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/;
export const MAX_IDS = 100;

/** Request dates are years 1970–2100: beyond them no report has data, and DuckDB's times overflow. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2100;
const yearOf = (raw: string) => Number(raw.slice(0, 4));
export const inYears = (raw: string) => yearOf(raw) >= MIN_YEAR && yearOf(raw) <= MAX_YEAR;
export const yearsMessage = (field: string) => `The ${field} must be a date between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31.`;

/**
 * The problems of a request, by field. A Map, so a query key named like an
 * Object.prototype member (`constructor`, `__proto__`) is a field like any other.
 */
export class Collector {
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

/** One request being read: its query, its options, the problems so far and the values so far. */
export interface Reading {
  readonly c: Collector;
  readonly query: Query;
  readonly opts: ParseOptions;
  /** The parameters the report takes, with the export options its formats bring. */
  readonly takes: ReadonlySet<string>;
  /** The values read so far, in the catalogue's order (the timezone first, then the rest). */
  readonly v: ReportParams;
  /** What one reader leaves for a later one (the first day of from_date for to_date). */
  readonly scratch: Record<string, unknown>;
}

/** The value of a query key as the server reads it (Object.hasOwn: never an inherited member). */
export function own(q: Query, key: string): string | string[] | undefined {
  return Object.hasOwn(q, key) ? q[key] : undefined;
}

/** A key given once; given twice is a problem of its own. */
export function single(r: Reading, field: string): string | undefined {
  const v = own(r.query, field);
  if (Array.isArray(v)) {
    r.c.add(field, `The ${field} may be given only once.`);
    return undefined;
  }
  return v;
}

export function oneOf(r: Reading, field: string, allowed: readonly string[] | undefined): string | null {
  const raw = single(r, field);
  if (raw === undefined || raw === '' || !allowed) return null;
  if (allowed.includes(raw)) return raw;
  r.c.add(field, `The ${field} must be one of: ${allowed.join(', ')}.`);
  return null;
}

export function positiveInt(c: Collector, field: string, raw: string | undefined, label = field): number | null {
  if (raw === undefined || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    c.add(field, `The ${label} must be a positive integer.`);
    return null;
  }
  return Number(raw);
}

/** An id filter: a positive integer, or null when absent. */
export const idParam = (r: Reading, field: string) => positiveInt(r.c, field, single(r, field));

/** A positive integer parameter up to `max`, or `fallback` when absent. */
export function boundedInt(r: Reading, field: string, fallback: number, max: number, tooLarge: string): number {
  const raw = single(r, field);
  if (raw === undefined || raw === '') return fallback;
  const n = positiveInt(r.c, field, raw);
  if (n !== null && n > max) r.c.add(field, tooLarge);
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
export function wallClockMs(d: DateTime): number {
  return Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.millisecond);
}

/** The zone names found valid so far: a few hundred at most, as ICU knows no more. */
const VALID_ZONES = new Set<string>();

/**
 * Whether `zone` is an IANA timezone ICU knows. Luxon asks ICU by building a formatter,
 * which a page asks for about thirty times; a valid name is remembered (an invalid one,
 * which anyone can send, is not).
 */
export function isValidZone(zone: string): boolean {
  if (VALID_ZONES.has(zone)) return true;
  const valid = zone.length < 64 && IANAZone.isValidZone(zone);
  if (valid && VALID_ZONES.size < 2_000) VALID_ZONES.add(zone);
  return valid;
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
