import t from 'tap';
import { DateTime } from 'luxon';
import { nextRuns, latestRun, scheduleProblems } from '../../src/delivery/schedule.ts';
import { resolveWindow } from '../../src/delivery/window.ts';

// Next runs are a pure function of cron, zone and a start instant. The expected instants
// are built here with luxon from local wall-clock times, independently of croner.
const local = (zone: string, iso: string) => DateTime.fromISO(iso, { zone }).toUTC().toISO();
const runs = (cron: string, zone: string, from: string, n: number) => nextRuns({ cron, zone }, new Date(from), n).map((d) => d.toISOString());

t.test('07:00 every day stays 07:00 local across DST changes', async (t) => {
  for (const [zone, days] of [
    ['America/New_York', ['2026-03-07', '2026-03-08', '2026-03-09', '2026-10-31', '2026-11-01', '2026-11-02']],
    ['Europe/London', ['2026-03-28', '2026-03-29', '2026-03-30', '2026-10-24', '2026-10-25', '2026-10-26']],
    ['Asia/Kathmandu', ['2026-03-28', '2026-03-29', '2026-10-25', '2026-10-26']],
  ] as const) {
    for (const day of days) {
      const from = DateTime.fromISO(`${day}T00:00`, { zone }).toUTC().toISO()!;
      t.same(runs('0 7 * * *', zone, from, 1), [local(zone, `${day}T07:00`)], `${zone} ${day}`);
    }
  }
  // The instants themselves: EST is UTC-5, EDT UTC-4; GMT and BST; Kathmandu is always +05:45.
  t.same(runs('0 7 * * *', 'America/New_York', '2026-03-07T13:00:00Z', 2), ['2026-03-08T11:00:00.000Z', '2026-03-09T11:00:00.000Z']);
  t.same(runs('0 7 * * *', 'Europe/London', '2026-10-24T07:00:00Z', 2), ['2026-10-25T07:00:00.000Z', '2026-10-26T07:00:00.000Z']);
  t.same(runs('0 7 * * *', 'Asia/Kathmandu', '2026-06-01T00:00:00Z', 1), ['2026-06-01T01:15:00.000Z']);
});

t.test('a time DST skips runs once, at the end of the gap; a time that occurs twice runs once', async (t) => {
  // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT; 2026-11-01: 01:00-02:00 happens twice.
  t.same(runs('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3), ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']);
  t.same(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 3), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z', '2026-11-03T06:30:00.000Z']);
  // London, 2026-03-29: 01:00 GMT jumps to 02:00 BST; 2026-10-25: 01:00-02:00 happens twice.
  t.same(runs('30 1 * * *', 'Europe/London', '2026-03-28T12:00:00Z', 2), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  t.same(runs('30 1 * * *', 'Europe/London', '2026-10-24T12:00:00Z', 2), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  // An hourly schedule is an interval: it runs every real hour, 25 times on the 25-hour
  // New York day (01:00 EDT and 01:00 EST both), and 23 times on the 23-hour one.
  const autumn = runs('0 * * * *', 'America/New_York', '2026-11-01T03:59:59Z', 30).filter((r) => r < '2026-11-02T05:00:00.000Z');
  t.equal(autumn.length, 25);
  const spring = runs('0 * * * *', 'America/New_York', '2026-03-08T04:59:59Z', 30).filter((r) => r < '2026-03-09T04:00:00.000Z');
  t.equal(spring.length, 23);
});

t.test('the latest run at or before an instant', async (t) => {
  const s = { cron: '0 7 * * 1-5', zone: 'America/New_York' };
  t.equal(latestRun(s, new Date('2026-03-09T11:00:00Z'))?.toISOString(), '2026-03-09T11:00:00.000Z', 'exactly at the run');
  t.equal(latestRun(s, new Date('2026-03-09T10:59:59Z'))?.toISOString(), '2026-03-06T12:00:00.000Z', 'the Friday before, in EST');
});

t.test('bad schedules are named by field', async (t) => {
  t.same(Object.keys(scheduleProblems({ cron: '0 7 * *', zone: 'UTC' })), ['cron']);
  t.same(Object.keys(scheduleProblems({ cron: '0 7 31 2 *', zone: 'UTC' })), ['cron'], 'the 31st of February never comes');
  t.same(Object.keys(scheduleProblems({ cron: '0 7 * * *', zone: 'Asia/Calcutta ' })), ['zone']);
  t.same(scheduleProblems({ cron: '*/15 9-17 * * 1-5', zone: 'Asia/Kathmandu' }), {});
});

t.test('relative windows are local days of the zone', async (t) => {
  // 00:30 UTC on 2 Nov is still 1 Nov in New York: yesterday there is 31 Oct.
  t.same(resolveWindow('yesterday', 'America/New_York', new Date('2026-11-02T00:30:00Z')), { from: '2026-10-31', to: '2026-10-31', month: '2026-10' });
  t.same(resolveWindow('yesterday', 'Asia/Kathmandu', new Date('2026-11-01T18:30:00Z')), { from: '2026-11-01', to: '2026-11-01', month: '2026-11' });
  t.same(resolveWindow('last_7_days', 'Europe/London', new Date('2026-10-26T07:00:00Z')), { from: '2026-10-19', to: '2026-10-25', month: '2026-10' });
  t.same(resolveWindow('month_to_date', 'UTC', new Date('2026-12-03T07:00:00Z')), { from: '2026-12-01', to: '2026-12-02', month: '2026-12' });
  t.same(resolveWindow('month_to_date', 'UTC', new Date('2026-12-01T07:00:00Z')), { from: '2026-12-01', to: '2026-12-01', month: '2026-12' });
  t.same(resolveWindow('last_month', 'Pacific/Kiritimati', new Date('2026-12-31T11:00:00Z')), { from: '2026-12-01', to: '2026-12-31', month: '2026-12' }, 'already 1 January there');
  // The day the report is asked for is 25 hours long in New York: the engine gets the day and the zone.
  const w = resolveWindow('yesterday', 'America/New_York', new Date('2026-11-02T12:00:00Z'));
  const start = DateTime.fromISO(w.from, { zone: 'America/New_York' });
  t.equal(start.plus({ days: 1 }).diff(start, 'hours').hours, 25);
});
