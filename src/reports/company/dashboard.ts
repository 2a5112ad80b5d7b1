import type { ReportDeclaration } from '../declaration.ts';
import { decimalNumber, decimalRatioNumber, hms, ratioNumber } from '../format.ts';
import { CALL_STATUSES } from '../../source/contract.ts';
import { arr, hms as hmsSchema, int, num, obj, str } from '../schema.ts';

interface TopCampaign { id: bigint | number; name: string; dials: bigint | number; completed: bigint | number }

const n = (v: unknown) => Number(v ?? 0);

/**
 * The company dashboard (docs/reports.md "Company dashboard"): a fixed object,
 * not a table, so JSON only. Credits are exact decimals in SQL and JSON numbers here.
 */
export const companyDashboard: ReportDeclaration = {
  family: 'company', name: 'dashboard', title: 'Company dashboard', sql: 'company/dashboard.sql',
  params: ['days', 'account_id'], result: 'custom', exportable: false,
  endpoint: { path: '/api/v1/dashboard/', auth: 'bearer', envelope: 'body', errors: [404, 422] },
  // The last `days` × 24 h ending now.
  window: (now, p) => ({ from: now.minus({ hours: 24 * p.days }), to: now }),
  columns: [],
  responseSchema: obj({
    total_credits_purchased: num, credits_used: num, remaining_credits: num,
    campaigns: obj({ total: int(), draft: int(), active: int(), paused: int(), completed: int() }),
    outbound_calls: int(), outbound_sms: int(), total_call_duration: hmsSchema, total_owned_numbers: int(),
    total_playback: obj({ messages_played: int(), playback_sec: int(), average_playback_pct: num }),
    credit_spent: num,
    top_performing_campaign: { type: 'object', properties: { id: int(), name: str(), completion_pct: num }, description: '{} when no campaign has dials' },
    playback_distribution: obj({ '0-25': int(), '25-50': int(), '50-75': int(), '75-100': int() }),
    campaign_type_ratio: obj({ voice_broadcast: int(), sms: int(), telesales: int(), inbound: int() }),
    call_outcomes: obj(Object.fromEntries(CALL_STATUSES.map((s) => [s, int()]))),
    credit_usage_overtime: arr(obj({ date: str({ format: 'date' }), credits: num })),
  }),
  shape: (rows) => {
    const r = rows[0];
    const used = String(r.credits_used);
    const top = r.top_campaign as TopCampaign | null;
    const outcomes = new Map((r.outcomes as { status: string; n: unknown }[] | null ?? []).map((o) => [o.status, n(o.n)]));
    return {
      total_credits_purchased: decimalNumber(String(r.credits_purchased)),
      credits_used: decimalNumber(used),
      remaining_credits: decimalNumber(String(r.remaining_credits)),
      campaigns: {
        total: n(r.campaigns_total), draft: n(r.campaigns_draft), active: n(r.campaigns_active),
        paused: n(r.campaigns_paused), completed: n(r.campaigns_completed),
      },
      outbound_calls: n(r.outbound_calls),
      outbound_sms: n(r.outbound_sms),
      total_call_duration: hms(n(r.talk_sec)),
      total_owned_numbers: n(r.owned_numbers),
      total_playback: {
        messages_played: n(r.messages_played),
        playback_sec: n(r.playback_sec),
        average_playback_pct: averagePct(n(r.playback_pct_sum), n(r.playback_n)),
      },
      credit_spent: decimalRatioNumber(used, String(n(r.outbound_calls)), 1, 3),
      top_performing_campaign: top
        ? { id: n(top.id), name: top.name, completion_pct: ratioNumber(n(top.completed), n(top.dials), 100, 2) }
        : {},
      playback_distribution: {
        '0-25': n(r.playback_0_25), '25-50': n(r.playback_25_50), '50-75': n(r.playback_50_75), '75-100': n(r.playback_75_100),
      },
      campaign_type_ratio: {
        voice_broadcast: n(r.type_voice_broadcast), sms: n(r.type_sms), telesales: n(r.type_telesales), inbound: n(r.type_inbound),
      },
      call_outcomes: Object.fromEntries(CALL_STATUSES.map((s) => [s, outcomes.get(s) ?? 0])),
      credit_usage_overtime: (r.usage_overtime as { date: string; credits: string }[]).map((d) => ({ date: d.date, credits: decimalNumber(d.credits) })),
    };
  },
};

/**
 * The mean of per-call playback percentages to 2 digits. A mean of fractions has no
 * exact decimal form, so this one is a double, rounded half up (the values are never
 * negative).
 */
function averagePct(sum: number, count: number): number {
  return count === 0 ? 0 : Math.round((sum / count) * 100) / 100;
}
