import { DateTime } from 'luxon';

/** The relative windows a subscription can ask for, resolved at each run. */
export const WINDOWS = ['yesterday', 'last_7_days', 'month_to_date', 'last_month'] as const;
export type RelativeWindow = (typeof WINDOWS)[number];

export interface ResolvedWindow {
  /** First and last local day of the window (inclusive), YYYY-MM-DD. */
  from: string;
  to: string;
  /** The calendar month of the window (YYYY-MM), for monthly reports. */
  month: string;
}

/**
 * The local days a relative window covers for a run at `at`, read in `zone`: "yesterday"
 * in Kathmandu is the day before the run's local date there. The days go to the report
 * with the zone, and the report engine turns them into instants, so a 23- or 25-hour day
 * at a DST change is exactly that long.
 * - yesterday: the local day before the run's.
 * - last_7_days: the seven whole local days before the run's day.
 * - month_to_date: from the 1st of the run's month up to the day before the run's day;
 *   on the 1st, which has no whole day yet, the 1st itself.
 * - last_month: the whole previous calendar month.
 */
export function resolveWindow(window: RelativeWindow, zone: string, at: Date): ResolvedWindow {
  const today = DateTime.fromJSDate(at, { zone }).startOf('day');
  const day = (d: DateTime) => d.toISODate()!;
  const month = (d: DateTime) => d.toFormat('yyyy-MM');
  switch (window) {
    case 'yesterday': {
      const y = today.minus({ days: 1 });
      return { from: day(y), to: day(y), month: month(y) };
    }
    case 'last_7_days':
      return { from: day(today.minus({ days: 7 })), to: day(today.minus({ days: 1 })), month: month(today.minus({ days: 1 })) };
    case 'month_to_date': {
      const first = today.startOf('month');
      const last = today.day === 1 ? today : today.minus({ days: 1 });
      return { from: day(first), to: day(last), month: month(first) };
    }
    case 'last_month': {
      const first = today.minus({ months: 1 }).startOf('month');
      return { from: day(first), to: day(first.endOf('month')), month: month(first) };
    }
  }
}
