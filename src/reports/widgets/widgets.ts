import type { Endpoint, ReportContext, ReportDeclaration } from '../declaration.ts';
import type { ResultRow } from '../../store/duckdb.ts';
import { ratioNumber, ratioString } from '../format.ts';
import type { ParamName } from '../params.ts';

/**
 * The widgets (docs/reports.md "Widgets"): one SQL file and one declaration per
 * type; `shape` gives the `data` of the widget envelope with the widget API's value types
 * (counts as strings where that API has strings).
 */
const PARAMS: readonly ParamName[] = ['customer_id', 'from_date', 'to_date', 'timezone'];
/** Every widget is answered at one path, picked by `type`, in the widget API's envelope. */
const ENDPOINT: Endpoint = {
  path: '/api/widgets/data', auth: 'bearer', envelope: 'widget', errors: [400, 404, 422],
  select: { param: 'type', noun: 'widget', title: 'Widget data' },
};
const n = (v: unknown) => Number(v ?? 0);

function widget(name: string, title: string, shape: (rows: ResultRow[], ctx: ReportContext) => unknown): ReportDeclaration {
  return {
    family: 'widgets', name, title, sql: `widgets/${name}.sql`, params: PARAMS, result: 'custom', exportable: false,
    endpoint: ENDPOINT,
    columns: [], shape: (rows, _columns, ctx) => shape(rows, ctx),
  };
}

/** Every local day of the window, in order: the zero-filled axis of calls_per_day. */
function days(ctx: ReportContext): string[] {
  const out: string[] = [];
  const { from, to, timezone } = ctx.params;
  for (let d = from!.setZone(timezone).startOf('day'); d < to!; d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
}

const top = (rows: ResultRow[], as: 'string' | 'number') => rows.map((r) => ({ name: String(r.name), val: as === 'string' ? String(n(r.val)) : n(r.val) }));

export const WIDGETS: readonly ReportDeclaration[] = [
  widget('missed_calls', 'Missed calls', (r) => String(n(r[0].missed))),
  widget('call_durations', 'Average call duration (s)', (r) => ratioNumber(n(r[0].talk_sec), n(r[0].answered), 1, 0)),
  widget('average_calls_per_user', 'Calls per caller', (r) => ratioString(n(r[0].calls), n(r[0].callers), 1, 1)),
  widget('call_totals', 'Calls', (r) => String(n(r[0].calls))),
  widget('calls_top_attributions', 'Top attributions', (r) => top(r, 'string')),
  widget('unique_callers', 'Unique callers', (r) => n(r[0].callers)),
  widget('call_length_distribution', 'Call length distribution', (r) => [
    { name: 'missed', val: String(n(r[0].missed)), isWarningValue: true },
    { name: '< 30 s', val: String(n(r[0].under_30)) },
    { name: '30 - 60 s', val: String(n(r[0].s30_60)) },
    { name: '1 - 2 min', val: String(n(r[0].m1_2)) },
    { name: '2 - 5 min', val: String(n(r[0].m2_5)) },
    { name: '> 5 min', val: String(n(r[0].over_5)) },
  ]),
  widget('geographic_origin', 'Geographic origin', (r) => top(r, 'number')),
  widget('daily_call_distribution', 'Calls by hour of day', (rows) => {
    const byHour = new Map(rows.map((r) => [n(r.hour), r]));
    return Array.from({ length: 24 }, (_, h) => ({
      name: `${String(h).padStart(2, '0')}:00`, Answered: n(byHour.get(h)?.answered), Missed: n(byHour.get(h)?.missed),
    }));
  }),
  widget('top_customers_by_calls', 'Top customers by calls', (rows, ctx) => {
    if (ctx.params.customer_id !== null) return String(rows.reduce((s, r) => s + n(r.val), 0));
    return rows.map((r) => ({ scId: String(r.id), name: String(r.name), val: String(n(r.val)), url: `/mypages/dashboard/scid:${String(r.id)}` }));
  }),
  widget('calls_per_day', 'Calls per day', (rows, ctx) => {
    const byDay = new Map(rows.map((r) => [String(r.day), r]));
    return days(ctx).map((d) => ({ name: d, Answered: n(byDay.get(d)?.answered), Missed: n(byDay.get(d)?.missed) }));
  }),
];

