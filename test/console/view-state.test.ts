import t from 'tap';
import { DateTime } from 'luxon';
import { apiQuery, presetDays, readState, stateQuery } from '../../src/console/view-state.ts';
import { CURATED_ZONES, offsetLabel, zoneOptions } from '../../src/console/zones.ts';
import { isValidZone } from '../../src/reports/params.ts';

const at = (iso: string) => new Date(iso);

t.test('today is the zone\'s calendar day, on both sides of a DST change', async (t) => {
  // New York falls back on 2026-11-01 at 02:00 EDT (06:00 UTC).
  t.strictSame(presetDays('today', 'America/New_York', at('2026-11-02T04:30:00Z')), { from: '2026-11-01', to: '2026-11-01' }, '23:30 EST on the 1st');
  t.strictSame(presetDays('today', 'America/New_York', at('2026-11-02T05:00:00Z')), { from: '2026-11-02', to: '2026-11-02' }, 'midnight EST');
  t.strictSame(presetDays('yesterday', 'America/New_York', at('2026-11-02T05:00:00Z')), { from: '2026-11-01', to: '2026-11-01' }, 'yesterday was the 25-hour day');
  // London springs forward on 2027-03-28 at 01:00 UTC.
  t.strictSame(presetDays('today', 'Europe/London', at('2027-03-27T23:30:00Z')), { from: '2027-03-27', to: '2027-03-27' });
  t.strictSame(presetDays('today', 'Europe/London', at('2027-03-28T00:30:00Z')), { from: '2027-03-28', to: '2027-03-28' });
  // Kathmandu is UTC+05:45 all year: the day turns at 18:15 UTC.
  t.strictSame(presetDays('today', 'Asia/Kathmandu', at('2027-01-10T18:14:00Z')), { from: '2027-01-10', to: '2027-01-10' });
  t.strictSame(presetDays('today', 'Asia/Kathmandu', at('2027-01-10T18:15:00Z')), { from: '2027-01-11', to: '2027-01-11' });
});

t.test('ranges across a DST change keep their number of calendar days', async (t) => {
  const now = at('2026-11-03T15:00:00Z');
  const r = presetDays('last_7_days', 'America/New_York', now);
  t.strictSame(r, { from: '2026-10-28', to: '2026-11-03' });
  const from = DateTime.fromISO(r.from, { zone: 'America/New_York' });
  const to = DateTime.fromISO(r.to, { zone: 'America/New_York' }).plus({ days: 1 });
  t.equal(to.diff(from, 'hours').hours, 7 * 24 + 1, 'the window is 169 real hours: one day had 25');
  t.strictSame(presetDays('last_90_days', 'UTC', at('2027-01-10T12:00:00Z')), { from: '2026-10-13', to: '2027-01-10' }, '90 days, today included');
  t.strictSame(presetDays('this_month', 'Asia/Tokyo', at('2027-01-31T16:00:00Z')), { from: '2027-02-01', to: '2027-02-01' }, 'already February in Tokyo');
  t.strictSame(presetDays('last_month', 'America/Los_Angeles', at('2027-03-01T07:00:00Z')), { from: '2027-01-01', to: '2027-01-31' }, 'still February in Los Angeles');
  t.strictSame(presetDays('last_month', 'UTC', at('2028-03-15T00:00:00Z')), { from: '2028-02-01', to: '2028-02-29' }, 'a leap February');
});

t.test('the URL state round-trips and the API query takes only a report\'s parameters', async (t) => {
  const now = at('2027-01-10T12:00:00Z');
  const s = readState({ range: 'last_7_days', timezone: 'Asia/Kathmandu', agent_ids: ['3', '4'], campaign_id: '2', group_by: 'week', sort: 'name' }, 'UTC', now, ['group_by', 'sort']);
  t.equal(s.range, 'last_7_days');
  t.strictSame([s.date_from, s.date_to], ['2027-01-04', '2027-01-10']);
  const again = readState(Object.fromEntries(new URLSearchParams(stateQuery(s)).entries()) as never, 'UTC', now, ['group_by', 'sort']);
  t.equal(again.range, 'last_7_days');
  t.equal(again.timezone, 'Asia/Kathmandu');
  t.strictSame(apiQuery(s, ['date_from', 'date_to', 'timezone', 'agent_ids', 'campaign_id']), {
    date_from: '2027-01-04', date_to: '2027-01-10', timezone: 'Asia/Kathmandu', campaign_id: '2', agent_ids: ['3', '4'],
  }, 'no console-only key (sort) reaches the report');
  const custom = readState({ date_from: '2026-12-01', date_to: '2026-12-31' }, 'Europe/London', now);
  t.equal(custom.range, 'custom');
  t.equal(custom.timezone, 'Europe/London', 'the default zone is the account\'s');
  t.match(stateQuery(custom), /date_from=2026-12-01&date_to=2026-12-31/);
  t.equal(readState({ refresh: '60' }, 'UTC', now).refresh, 60);
  t.equal(readState({ refresh: '1' }, 'UTC', now).refresh, null, 'a wallboard reloads at most every 5 s');
});

t.test('the zone picker lists canonical IANA names with their offsets', async (t) => {
  for (const z of CURATED_ZONES) t.ok(isValidZone(z), `${z} is a zone luxon knows`);
  t.notOk(CURATED_ZONES.includes('Asia/Calcutta'), 'no legacy ICU names');
  t.equal(offsetLabel('Asia/Kathmandu', at('2027-01-10T00:00:00Z')), 'UTC+05:45');
  t.equal(offsetLabel('America/New_York', at('2027-07-01T00:00:00Z')), 'UTC−04:00');
  const zones = zoneOptions(at('2027-01-10T00:00:00Z'), ['America/Caracas']);
  t.ok(zones.some((z) => z.name === 'America/Caracas'), 'an account\'s own zone is added');
  t.strictSame(zones.map((z) => z.minutes), [...zones.map((z) => z.minutes)].sort((a, b) => a - b), 'west to east');
});

// Each page shows the picker, so a list is kept for the rest of its minute: New York
// leaves daylight time at 06:00 UTC on 2026-11-01, and the minute before still shows it.
t.test('the zone picker shows the offsets of its own minute across a DST change', async (t) => {
  const ny = (iso: string) => zoneOptions(at(iso)).find((z) => z.name === 'America/New_York')!.offset;
  t.equal(ny('2026-11-01T05:59:00Z'), 'UTC−04:00', 'a minute before');
  t.equal(ny('2026-11-01T05:59:59Z'), 'UTC−04:00', 'the same minute, kept');
  t.equal(ny('2026-11-01T06:00:00Z'), 'UTC−05:00', 'the next minute');
  t.equal(ny('2026-11-01T05:59:30Z'), 'UTC−04:00', 'back a minute');
  const a = zoneOptions(at('2026-11-01T06:00:10Z'), ['America/Caracas']);
  t.ok(a.some((z) => z.name === 'America/Caracas'), 'another account\'s zone in the same minute');
  t.notOk(zoneOptions(at('2026-11-01T06:00:20Z')).some((z) => z.name === 'America/Caracas'), 'and not in a list without it');
  t.notOk(isValidZone('Mars/Olympus_Mons'), 'an unknown zone');
  t.notOk(isValidZone('Mars/Olympus_Mons'), 'still unknown when asked again');
});
