import { DateTime } from 'luxon';
import { isValidZone } from '../reports/params.ts';

/**
 * The time zones the picker offers: canonical IANA names (Node 20's ICU list has legacy
 * names such as Asia/Calcutta and no UTC), one or more per region where call centres run.
 * An account's own zone is offered too when it is not in this list.
 */
const CURATED = [
  'UTC',
  'Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Denver', 'America/Phoenix', 'America/Chicago',
  'America/New_York', 'America/Halifax', 'America/St_Johns', 'America/Mexico_City', 'America/Bogota', 'America/Lima',
  'America/Santiago', 'America/Sao_Paulo', 'America/Argentina/Buenos_Aires',
  'Atlantic/Azores', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid',
  'Europe/Rome', 'Europe/Amsterdam', 'Europe/Warsaw', 'Europe/Athens', 'Europe/Istanbul', 'Europe/Kyiv', 'Europe/Moscow',
  'Africa/Casablanca', 'Africa/Lagos', 'Africa/Cairo', 'Africa/Johannesburg', 'Africa/Nairobi',
  'Asia/Dubai', 'Asia/Tehran', 'Asia/Karachi', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Dhaka', 'Asia/Yangon',
  'Asia/Bangkok', 'Asia/Ho_Chi_Minh', 'Asia/Jakarta', 'Asia/Singapore', 'Asia/Manila', 'Asia/Hong_Kong', 'Asia/Shanghai',
  'Asia/Taipei', 'Asia/Seoul', 'Asia/Tokyo', 'Australia/Perth', 'Australia/Adelaide', 'Australia/Brisbane',
  'Australia/Sydney', 'Pacific/Auckland', 'Pacific/Chatham', 'Pacific/Kiritimati',
] as const;

export interface ZoneOption {
  name: string;
  /** `UTC−05:00` at the given instant. */
  offset: string;
  minutes: number;
}

/** The offset of a zone at an instant, as `UTC±HH:MM` (a true minus sign). */
export function offsetLabel(zone: string, at: Date): string {
  const m = DateTime.fromJSDate(at, { zone }).offset;
  const sign = m < 0 ? '−' : '+';
  const a = Math.abs(m);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** zoneOptions' lists of the current minute, by their extra zones. */
const optionsOf = { minute: NaN, lists: new Map<string, ZoneOption[]>() };

/**
 * The picker's zones at an instant, west to east, with `extra` (an account's zone) added
 * if missing. Offsets change only on whole minutes, so a list is kept for the rest of
 * its minute: every page shows the picker, and each list asks ICU for 60 offsets.
 */
export function zoneOptions(at: Date, extra: readonly string[] = []): ZoneOption[] {
  const minute = Math.floor(at.getTime() / 60_000);
  if (minute !== optionsOf.minute || optionsOf.lists.size > 100) {
    optionsOf.minute = minute;
    optionsOf.lists.clear();
  }
  const key = extra.join(',');
  let list = optionsOf.lists.get(key);
  if (!list) {
    const names = [...new Set([...CURATED, ...extra.filter(isValidZone)])];
    list = names
      .map((name) => ({ name, offset: offsetLabel(name, at), minutes: DateTime.fromJSDate(at, { zone: name }).offset }))
      .sort((a, b) => a.minutes - b.minutes || a.name.localeCompare(b.name));
    optionsOf.lists.set(key, list);
  }
  return list;
}

export const CURATED_ZONES: readonly string[] = CURATED;
