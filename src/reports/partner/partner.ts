import type { DateTime } from 'luxon';
import type { ReportContext, ReportDeclaration } from '../declaration.ts';
import { ratioNumber, roundDecimal, sumDecimals } from '../format.ts';
import { arr, bool, decimal, int, nullable, num, obj, str, type Schema } from '../schema.ts';

const ROLLUP = obj({ total_calls: int(), answered_calls: int(), total_minutes: num, total_cost: decimal(2) });
const COUNTS = obj({ total_calls: int(), answered_calls: int() });
const ACTIVITY: Record<string, Schema> = {
  period: obj({ from: str({ format: 'date-time' }), to: str({ format: 'date-time', description: 'exclusive end' }) }),
  calls: ROLLUP,
  traffic: obj({ inbound: ROLLUP, outbound: ROLLUP }),
  by_product: obj({ sip_trunking: ROLLUP, voice_api: ROLLUP }),
  time_series: arr(obj({ date: str({ format: 'date' }), total_calls: int(), answered_calls: int(), total_minutes: num, total_cost: decimal(2), inbound: COUNTS, outbound: COUNTS })),
};

/**
 * The partner API (docs/reports.md "Partner dashboard and analytics"). The SQL
 * groups the calls by UTC day, direction and product; the roll-ups are sums of those few
 * groups, money summed exactly and rounded once at the end.
 */
interface Group { day: string; direction: string; product: string; total_calls: unknown; answered_calls: unknown; talk_sec: unknown; cost: string | null }

const n = (v: unknown) => Number(v ?? 0);

function rollup(groups: readonly Group[]) {
  return {
    total_calls: groups.reduce((s, g) => s + n(g.total_calls), 0),
    answered_calls: groups.reduce((s, g) => s + n(g.answered_calls), 0),
    total_minutes: ratioNumber(groups.reduce((s, g) => s + n(g.talk_sec), 0), 60, 1, 2),
    total_cost: roundDecimal(sumDecimals(groups.map((g) => g.cost ?? '0')), 2),
  };
}

const counts = (groups: readonly Group[]) => {
  const r = rollup(groups);
  return { total_calls: r.total_calls, answered_calls: r.answered_calls };
};

/** `YYYY-MM-DDTHH:mm:ss.SSSZ`, the UTC instant. */
const instant = (d: DateTime) => d.toUTC().toISO({ suppressMilliseconds: false })!.replace('+00:00', 'Z');

function activity(groups: readonly Group[], ctx: ReportContext) {
  const { from, to } = ctx.params;
  const where = (f: (g: Group) => boolean) => groups.filter(f);
  const series = [];
  for (let d = from!.toUTC().startOf('day'); d < to!; d = d.plus({ days: 1 })) {
    const day = d.toISODate()!;
    const of = where((g) => g.day === day);
    series.push({
      date: day, ...rollup(of),
      inbound: counts(of.filter((g) => g.direction === 'inbound')),
      outbound: counts(of.filter((g) => g.direction === 'outbound')),
    });
  }
  return {
    period: { from: instant(from!), to: instant(to!) },
    calls: rollup(groups),
    traffic: { inbound: rollup(where((g) => g.direction === 'inbound')), outbound: rollup(where((g) => g.direction === 'outbound')) },
    by_product: { sip_trunking: rollup(where((g) => g.product === 'sip_trunking')), voice_api: rollup(where((g) => g.product === 'voice_api')) },
    time_series: series,
  };
}

export const partnerDashboard: ReportDeclaration = {
  family: 'partner', name: 'dashboard', title: 'Partner dashboard', sql: 'partner/dashboard.sql',
  params: [], result: 'custom', exportable: false, columns: [],
  endpoint: { path: '/api/partner/v1/dashboard', auth: 'partner', envelope: 'body', errors: [422] },
  window: (now) => ({ from: now.startOf('day'), to: now }),
  responseSchema: obj({
    partner: obj({ id: nullable(int()), name: nullable(str()), email: nullable(str()), balance: { type: 'null' } }),
    period: ACTIVITY.period,
    accounts: obj({ total: int(), active: int(), customers: arr(obj({ auth_id: str(), name: str(), email: nullable(str()), phone: nullable(str()), is_active: bool, created_at: nullable(str({ format: 'date-time' })) })) }),
    total_balance: decimal(2),
    calls: ACTIVITY.calls, traffic: ACTIVITY.traffic, by_product: ACTIVITY.by_product, time_series: ACTIVITY.time_series,
  }),
  shape: (rows, _columns, ctx) => {
    const r = rows[0];
    const p = r.partner as { id: unknown; name: string; email: string | null } | null;
    const customers = (r.customers as Record<string, unknown>[] | null) ?? [];
    const { period, calls, traffic, by_product, time_series } = activity((r.groups as Group[] | null) ?? [], ctx);
    return {
      partner: { id: p ? n(p.id) : null, name: p?.name ?? null, email: p?.email ?? null, balance: null },
      period,
      accounts: {
        total: customers.length,
        active: customers.filter((c) => c.is_active === true).length,
        customers: customers.map((c) => ({
          auth_id: c.auth_id, name: c.name, email: c.email ?? null, phone: c.phone ?? null, is_active: c.is_active === true, created_at: c.created_at ?? null,
        })),
      },
      total_balance: roundDecimal(String(r.total_balance), 2),
      calls, traffic, by_product, time_series,
    };
  },
};

export const partnerAnalytics: ReportDeclaration = {
  family: 'partner', name: 'analytics', title: 'Partner analytics', sql: 'partner/analytics.sql',
  params: ['from_date', 'to_date'], result: 'custom', exportable: false, columns: [],
  endpoint: { path: '/api/partner/v1/analytics', auth: 'partner', envelope: 'body', errors: [422] },
  responseSchema: obj({ ...ACTIVITY, top_spenders: arr(obj({ auth_id: str(), name: str(), total_calls: int(), total_cost: decimal(2) })) }),
  shape: (rows, _columns, ctx) => {
    const r = rows[0];
    const top = (r.top_spenders as { auth_id: string; name: string; total_calls: unknown; cost: string }[] | null) ?? [];
    return {
      ...activity((r.groups as Group[] | null) ?? [], ctx),
      top_spenders: top.map((t) => ({ auth_id: t.auth_id, name: t.name, total_calls: n(t.total_calls), total_cost: roundDecimal(t.cost, 2) })),
    };
  },
};
