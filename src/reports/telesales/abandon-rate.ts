import { TELESALES_ENDPOINT } from './shared.ts';
import type { ReportDeclaration } from '../declaration.ts';
import { ratioNumber } from '../format.ts';

export const abandonRate: ReportDeclaration = {
  family: 'telesales', name: 'abandon-rate', title: 'Realtime abandon rate', sql: 'telesales/abandon-rate.sql',
  params: ['campaign_id', 'window_minutes', 'account_id', 'format'], required: ['campaign_id'], result: 'custom',
  endpoint: TELESALES_ENDPOINT,
  batch: { param: 'campaign_id', list: 'campaign_ids', key: 'campaign_id' },
  // Realtime: the last window_minutes ending now.
  window: (now, p) => ({ from: now.minus({ minutes: p.window_minutes }), to: now }),
  columns: [
    { key: 'campaign_id', label: 'Campaign ID', type: { kind: 'integer' } },
    { key: 'attempts_total', label: 'Answered dials', type: { kind: 'integer' } },
    { key: 'attempts_abandoned', label: 'Abandoned', type: { kind: 'integer' } },
    { key: 'abandon_rate_pct', label: 'Abandon rate %', type: { kind: 'ratio', num: 'attempts_abandoned', den: 'attempts_total', scale: 100, digits: 2, as: 'number' } },
    { key: 'window_minutes', label: 'Window (min)', type: { kind: 'integer' } },
    { key: 'window_from', label: 'Window from (UTC)', type: { kind: 'string' } },
    { key: 'window_to', label: 'Window to (UTC)', type: { kind: 'string' } },
    { key: 'tenant_id', label: 'Account ID', type: { kind: 'integer' } },
    { key: 'campaign_name', label: 'Campaign', type: { kind: 'string' } },
    { key: 'campaign_status', label: 'Status', type: { kind: 'string' } },
    { key: 'limit_pct', label: 'Limit %', type: { kind: 'decimal_number' } },
    { key: 'breached', label: 'Breached', type: { kind: 'boolean' } },
  ],
  shape: (rows, columns, ctx) => {
    const row = rows[0];
    const breaches = (row.breaches as Record<string, unknown>[]).map((b) => ({
      snapshot_at: b.snapshot_at,
      attempts_total: Number(b.attempts_total),
      attempts_abandoned: Number(b.attempts_abandoned),
      abandon_rate_pct: ratioNumber(Number(b.attempts_abandoned), Number(b.attempts_total), 100, 2),
      limit_pct: Number(b.limit_pct),
    }));
    const current = columns({ ...row, window_minutes: ctx.params.window_minutes });
    // A campaign over its limit now lists that breach first even before the monitor's next
    // snapshot records it: `breached` is never shown without its entry in `breaches`.
    if (current.breached === true && breaches[0]?.snapshot_at !== current.window_to) {
      breaches.unshift({
        snapshot_at: current.window_to, attempts_total: Number(current.attempts_total), attempts_abandoned: Number(current.attempts_abandoned),
        abandon_rate_pct: Number(current.abandon_rate_pct), limit_pct: Number(current.limit_pct),
      });
    }
    return { current, breaches: breaches.slice(0, 100) };
  },
};
