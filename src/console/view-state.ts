import { DateTime } from 'luxon';
import { isValidZone, MAX_SPAN_DAYS } from '../reports/params.ts';
import type { Query } from '../reports/params.ts';
import { own } from '../reports/param-read.ts';

/**
 * A console page's whole state lives in its URL: the date range (a preset or two dates),
 * the time zone, the account and the report filters. This module reads that state from a
 * query string, resolves presets in the chosen zone, and writes it back as links, so a
 * view can be bookmarked, shared and downloaded as it is seen.
 */

/** The date presets, in the order the picker lists them. */
export const PRESETS = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: 'last_7_days', label: 'Last 7 days' },
  { id: 'last_30_days', label: 'Last 30 days' },
  { id: 'last_90_days', label: 'Last 90 days' },
  { id: 'this_month', label: 'This month' },
  { id: 'last_month', label: 'Last month' },
] as const;

export type Preset = (typeof PRESETS)[number]['id'];
export const DEFAULT_PRESET: Preset = 'last_30_days';

/**
 * The first and last local day of a preset, as `YYYY-MM-DD`, in `zone` at the instant
 * `now`. "Last N days" are the N calendar days ending today, today included; a month is
 * its calendar days (this month: up to today). Days are calendar days of the zone, so a
 * range across a DST change covers its 23- or 25-hour day whole.
 */
export function presetDays(preset: Preset, zone: string, now: Date): { from: string; to: string } {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const day = (d: DateTime) => d.toISODate()!;
  switch (preset) {
    case 'today': return { from: day(today), to: day(today) };
    case 'yesterday': return { from: day(today.minus({ days: 1 })), to: day(today.minus({ days: 1 })) };
    case 'last_7_days': return { from: day(today.minus({ days: 6 })), to: day(today) };
    case 'last_30_days': return { from: day(today.minus({ days: 29 })), to: day(today) };
    case 'last_90_days': return { from: day(today.minus({ days: MAX_SPAN_DAYS - 1 })), to: day(today) };
    case 'this_month': return { from: day(today.startOf('month')), to: day(today) };
    case 'last_month': {
      const first = today.startOf('month').minus({ months: 1 });
      return { from: day(first), to: day(first.endOf('month')) };
    }
  }
}

const isPreset = (v: string): v is Preset => PRESETS.some((p) => p.id === v);

/** The one value of a query key (the last when repeated), or undefined. */
export function one(q: Query, key: string): string | undefined {
  const v = own(q, key);
  return Array.isArray(v) ? v.at(-1) : v;
}

/** Every value given for a list key (`agent_ids=…` or `agent_ids[]=…`), as typed: the report's reader judges them. */
function given(q: Query, key: string): string[] {
  return [own(q, key), own(q, `${key}[]`)].flat().filter((v): v is string => v !== undefined);
}

/** A page's state as read from its URL. Values stay as typed; the report readers judge them. */
export interface ViewState {
  /** The preset in force, or 'custom' when the dates were typed. */
  range: Preset | 'custom';
  date_from: string;
  date_to: string;
  timezone: string;
  account_id?: string;
  campaign_id?: string;
  agent_ids: string[];
  team_id?: string;
  /** Page-specific keys (group_by, sort, month, cursor, …) as given. */
  extra: Record<string, string>;
  /** Seconds between reloads for a wallboard, or null. */
  refresh: number | null;
}

/**
 * Reads a page's state. A preset (`range`) wins over dates; dates without a preset are a
 * custom range; neither is the default preset. The time zone defaults to `defaultZone`
 * (the account's own); a zone that is not one is kept as typed, for the report to refuse
 * next to its field.
 */
export function readState(q: Query, defaultZone: string, now: Date, pageKeys: readonly string[] = []): ViewState {
  const timezone = one(q, 'timezone') || defaultZone;
  const zoneForPresets = isValidZone(timezone) ? timezone : 'UTC';
  const asked = one(q, 'range');
  const from = one(q, 'date_from');
  const to = one(q, 'date_to');
  let range: Preset | 'custom';
  let days: { from: string; to: string };
  if (asked && isPreset(asked)) {
    range = asked;
    days = presetDays(asked, zoneForPresets, now);
  } else if (from || to) {
    range = 'custom';
    days = { from: from ?? '', to: to ?? '' };
  } else {
    range = DEFAULT_PRESET;
    days = presetDays(DEFAULT_PRESET, zoneForPresets, now);
  }
  const extra: Record<string, string> = {};
  for (const key of pageKeys) {
    const v = one(q, key);
    if (v !== undefined && v !== '') extra[key] = v;
  }
  const refreshRaw = Number(one(q, 'refresh'));
  return {
    range, date_from: days.from, date_to: days.to, timezone,
    account_id: one(q, 'account_id') || undefined,
    campaign_id: one(q, 'campaign_id') || undefined,
    agent_ids: given(q, 'agent_ids'),
    team_id: one(q, 'team_id') || undefined,
    extra,
    refresh: Number.isInteger(refreshRaw) && refreshRaw >= 5 && refreshRaw <= 3600 ? refreshRaw : null,
  };
}

/** The filters and page keys of a state, by parameter name (absent ones left out). */
function filters(state: ViewState): Record<string, string | string[]> {
  const all: Record<string, string | string[] | undefined> = {
    account_id: state.account_id, campaign_id: state.campaign_id,
    agent_ids: state.agent_ids.length ? state.agent_ids : undefined, team_id: state.team_id, ...state.extra,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string | string[]] => e[1] !== undefined));
}

/**
 * The API query of a report for this state: only the parameters the report declares, so
 * the page asks exactly what its download link asks.
 */
export function apiQuery(state: ViewState, params: readonly string[], more: Record<string, string> = {}): Record<string, string | string[]> {
  const all = { date_from: state.date_from, date_to: state.date_to, timezone: state.timezone, ...filters(state), ...more };
  return Object.fromEntries(Object.entries(all).filter(([k]) => params.includes(k)));
}

/** The page's own query string (for links that keep the view), with changes; undefined removes a key. */
export function stateQuery(state: ViewState, changes: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams(queryString({
    ...(state.range === 'custom' ? { date_from: state.date_from, date_to: state.date_to } : { range: state.range }),
    timezone: state.timezone, ...filters(state), ...(state.refresh ? { refresh: String(state.refresh) } : {}),
  }));
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) p.delete(k);
    else p.set(k, v);
  }
  return p.toString();
}

/** A query string of API parameters (repeated keys for lists). */
export function queryString(q: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const item of Array.isArray(v) ? v : [v]) p.append(k, item);
  return p.toString();
}
