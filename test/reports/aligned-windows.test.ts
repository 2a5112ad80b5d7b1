import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Principal } from '../../src/auth/principal.ts';
import { BOUND_TYPES, ReportEngine } from '../../src/reports/engine.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { slotAligned } from '../../src/store/duckdb.ts';
import { readSql, sqlDir } from '../../src/store/sql-files.ts';
import { FIXTURE_NOW, makeApp } from '../helpers/fixture.ts';

// A report read whose every bound date-time is on a 15-minute slot boundary runs on
// readers whose window macros leave out the partial end slots (the `aligned` macros of
// sql/macros/3-rollups.sql).
// That is only right when the macros' bounds are those date-times: the SQL must pass them
// as parameters, and the rows must be the ones the full macros give.

/** The macros schema `aligned` replaces, and those that call them. */
const WINDOW_MACROS = ['window_slots', 'window_caller_slots', 'window_disposition_slots', 'window_call_groups', 'window_ledger', 'caller_figures', 'partner_call_groups'];

function reportSqlFiles(dir = sqlDir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'macros' || e.name === 'schema' ? [] : reportSqlFiles(p);
    return e.name.endsWith('.sql') ? [p] : [];
  });
}

t.test('report SQL passes the window macros their bounds as parameters or midnight literals', async (t) => {
  const bound = /^(\$\w+(::TIMESTAMP)?|TIMESTAMP '\d{4}-\d{2}-\d{2}')$/;
  let calls = 0;
  for (const file of reportSqlFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(new RegExp(`\\b(${WINDOW_MACROS.join('|')})\\(([^()]*)\\)`, 'g'))) {
      const args = m[2].split(',').map((a) => a.trim());
      calls++;
      t.match(args[1], bound, `${path.relative(sqlDir, file)}: ${m[1]}'s from`);
      t.match(args[2], bound, `${path.relative(sqlDir, file)}: ${m[1]}'s to`);
    }
  }
  t.ok(calls >= 10, `${calls} calls checked`);
});

t.test('slotAligned: every bound date-time on a 15-minute boundary', async (t) => {
  const sql = 'SELECT $from, $to, $accounts, $tz';
  const with_ = (from: string, to = '2026-11-25 05:00:00.000') => ({ from, to, accounts: [1], tz: 'America/New_York' });
  t.ok(slotAligned(sql, with_('2026-08-27 04:00:00.000')), 'UTC texts at whole hours');
  t.ok(slotAligned(sql, with_('2026-08-27 04:45:00.000')), 'a quarter hour');
  t.ok(slotAligned(sql, with_('2026-08-27')), 'a bare date is midnight');
  t.ok(slotAligned(sql, with_('2026-08-27T04:15:00Z')), 'ISO with a Z');
  t.notOk(slotAligned(sql, with_('2026-08-27 04:07:00.000')), 'minutes off the grid');
  t.notOk(slotAligned(sql, with_('2026-08-27 04:00:01.000')), 'a second past');
  t.notOk(slotAligned(sql, with_('2026-08-27 04:00:00.001')), 'a millisecond past');
  t.notOk(slotAligned(sql, with_('2026-08-27T04:00:00+05:30')), 'an offset it does not read');
  t.ok(slotAligned('SELECT $from', { from: '2026-08-27 04:00:00.000', to: '2026-08-27 04:00:00.001' }), 'values the SQL does not bind do not count');
  t.ok(slotAligned(sql, { from: null, to: null, accounts: [1], tz: 'UTC' }), 'no window');
});

const ctx = await makeApp('aligned-windows', 4000);
t.teardown(ctx.close);
const engine = new ReportEngine(ctx.store, () => FIXTURE_NOW);
const admin: Principal = { userId: 1, email: 'admin@test', role: 'admin', accountId: null, partnerId: null };

t.test('an aligned read runs with schema aligned first; any other on main', async (t) => {
  const sql = `SELECT current_setting('search_path') AS path, $from AS f`;
  const [aligned] = await ctx.store.allWindowed(sql, { from: '2026-12-01 05:00:00.000' });
  t.match(String(aligned.path), /^aligned,main$/, 'a window on slot boundaries');
  const [partial] = await ctx.store.allWindowed(sql, { from: '2026-12-01 05:07:00.000' });
  t.notMatch(String(partial.path), /aligned/, 'a bound inside a slot');
});

// Every report that reads a window macro, over windows on slot boundaries: the rows of
// the aligned readers equal those of the full macros on main. Lists a report's SQL
// builds without an order (groups its shape sums) compare as sets.
const text = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));
/** Whether a count or sum (not an id) above zero is anywhere in the rows. */
const hasFigure = (v: unknown, key = ''): boolean => {
  if (Array.isArray(v)) return v.some((x) => hasFigure(x, key));
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => hasFigure(x, k));
  return !/(^|_)id$/.test(key) && (typeof v === 'number' || typeof v === 'bigint') && v > 0;
};
const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(canonical).sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]));
  return v;
};
const views: Record<string, string>[] = [
  { date_from: '2026-12-01', date_to: '2027-01-09', timezone: 'America/New_York' },
  { date_from: '2026-10-20', date_to: '2026-11-10', timezone: 'Asia/Kathmandu', account_id: '1' },
  { date_from: '2026-12-28', date_to: '2027-01-10', timezone: 'UTC', campaign_id: '1' },
  { date_from: '2026-12-05T10:15:00Z', date_to: '2026-12-20T18:45:00Z', timezone: 'Australia/Adelaide' },
];
const QUERY: Record<string, (v: Record<string, string>) => Record<string, string>> = {
  telesales: (v) => v,
  company: (v) => ({ days: '30', ...(v.account_id ? { account_id: v.account_id } : {}) }),
  partner: (v) => ({ from_date: v.date_from.slice(0, 10), to_date: v.date_to.slice(0, 10) }),
};

for (const decl of reportCatalogue()) {
  const sql = readSql(decl.sql);
  if (!WINDOW_MACROS.some((m) => sql.includes(`${m}(`))) continue;
  t.test(`${decl.family}/${decl.name}: the aligned readers give the full macros' rows`, async (t) => {
    const make = QUERY[decl.family];
    t.ok(make, 'a sample query for the family');
    let aligned = 0;
    let figures = 0;
    for (const v of views) {
      const query = Object.fromEntries(Object.entries(make(v)).filter(([k]) => (decl.params as readonly string[]).includes(k)));
      const r = await engine.prepare(decl, decl.name === 'time-series' ? { ...query, group_by: 'hour' } : query, admin, ['json']);
      if (!slotAligned(r.sql, r.bound)) continue;
      aligned++;
      const main = await ctx.store.all(r.sql, r.bound, BOUND_TYPES);
      const windowed = await ctx.store.allWindowed(r.sql, r.bound, BOUND_TYPES);
      t.same(canonical(windowed), canonical(main), `${JSON.stringify(query)}: ${main.length} rows`);
      if (hasFigure(main)) figures++;
    }
    t.ok(aligned > 0, `${aligned} aligned views compared`);
    t.ok(figures > 0, `${figures} of them with figures`);
  });
}
