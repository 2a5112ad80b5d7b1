import { Cron } from 'croner';
import { IANAZone } from 'luxon';

/**
 * A subscription's schedule: a five-field cron expression read in an IANA zone. Both are
 * stored as given, never a UTC instant, so "07:00 in New York" stays 07:00 across DST.
 * croner computes the runs as a pure function of cron, zone and a start instant. A time
 * that DST skips runs at the first valid time after the gap; a time that occurs twice runs
 * once.
 */
export interface Schedule {
  cron: string;
  zone: string;
}

function cronOf(s: Schedule): Cron {
  return new Cron(s.cron, { timezone: s.zone, mode: '5-part', paused: true });
}

/** What is wrong with a schedule, per field, or an empty object. */
export function scheduleProblems(s: { cron?: unknown; zone?: unknown }): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  if (typeof s.zone !== 'string' || !IANAZone.isValidZone(s.zone)) errors.zone = ['The zone must be an IANA timezone such as America/New_York.'];
  if (typeof s.cron !== 'string' || s.cron.trim().split(/\s+/).length !== 5) {
    errors.cron = ['The cron must have five fields: minute hour day-of-month month day-of-week (for example "0 7 * * 1-5").'];
  } else {
    try {
      const c = new Cron(s.cron, { timezone: 'UTC', mode: '5-part', paused: true });
      if (c.nextRun(new Date()) === null) errors.cron = ['The cron never runs.'];
    } catch (err) {
      errors.cron = [`The cron is not valid: ${(err as Error).message.replace(/^CronPattern: /, '')}.`];
    }
  }
  return errors;
}

/** The first run strictly after `from`, or null when there is none. */
export function nextRun(s: Schedule, from: Date): Date | null {
  return cronOf(s).nextRun(from);
}

/** The next `n` runs strictly after `from`. */
export function nextRuns(s: Schedule, from: Date, n: number): Date[] {
  return cronOf(s).nextRuns(n, from);
}

/** The latest run at or before `at`, or null when there is none. */
export function latestRun(s: Schedule, at: Date): Date | null {
  // previousRuns counts a run earlier in the same second: a run exactly at `at` needs one more millisecond.
  const run = cronOf(s).previousRuns(1, new Date(at.getTime() + 1))[0] ?? null;
  return run && run.getTime() <= at.getTime() ? run : null;
}
