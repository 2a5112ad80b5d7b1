import { DateTime } from 'luxon';
import { utcSql, type ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

/** Health thresholds; CALLBOARD_CID_* variables override them (see docs/operations.md). */
export interface CallerIdThresholds {
  blockMinCalls: number;
  blockAsrPct: number;
  blockRejectedPct: number;
  warnAsrPct: number;
  warnShortPct: number;
}

export const DEFAULT_CID_THRESHOLDS: CallerIdThresholds = { blockMinCalls: 30, blockAsrPct: 10, blockRejectedPct: 30, warnAsrPct: 30, warnShortPct: 40 };

export function callerIdHealth(th: CallerIdThresholds = DEFAULT_CID_THRESHOLDS): ReportDeclaration {
  return {
    family: 'telesales', name: 'caller-id-health', title: 'Caller-ID health', sql: 'telesales/caller-id-health.sql',
    params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
    endpoint: TELESALES_ENDPOINT,
    sqlParams: ({ params, now }) => {
      // "Today" is the local day of `timezone` that contains now, whatever the window.
      const midnight = DateTime.fromJSDate(now, { zone: params.timezone }).startOf('day');
      return {
        today_from: utcSql(midnight), today_to: utcSql(midnight.plus({ days: 1 })),
        block_min_calls: th.blockMinCalls, block_asr_pct: th.blockAsrPct, block_rejected_pct: th.blockRejectedPct,
        warn_asr_pct: th.warnAsrPct, warn_short_pct: th.warnShortPct,
      };
    },
    columns: [
      { key: 'cid', label: 'Caller ID', type: { kind: 'string' } },
      { key: 'display_name', label: 'Name', type: { kind: 'string' } },
      { key: 'carrier', label: 'Carrier', type: { kind: 'string' } },
      { key: 'cli_type', label: 'Type', type: { kind: 'string' } },
      { key: 'pool_status', label: 'Pool status', type: { kind: 'string' } },
      { key: 'cooldown_until', label: 'Cooldown until', type: { kind: 'string' }, cell: 'datetime' },
      { key: 'daily_cap', label: 'Daily cap', type: { kind: 'integer' } },
      { key: 'total_calls', label: 'Dials', type: { kind: 'integer' } },
      { key: 'answered_calls', label: 'Answered', type: { kind: 'integer' } },
      { key: 'asr_pct', label: 'ASR %', type: { kind: 'ratio', num: 'answered_calls', den: 'total_calls', scale: 100, digits: 1, as: 'number' } },
      { key: 'acd_sec', label: 'ACD (s)', type: { kind: 'ratio', num: 'answered_talk_sec', den: 'answered_calls', scale: 1, digits: 0, as: 'number' } },
      { key: 'short_calls', label: 'Short calls', type: { kind: 'integer' } },
      { key: 'short_call_ratio_pct', label: 'Short call %', type: { kind: 'ratio', num: 'short_calls', den: 'total_calls', scale: 100, digits: 1, as: 'number' } },
      { key: 'rejected_calls', label: 'Rejected', type: { kind: 'integer' } },
      { key: 'health_status', label: 'Health', type: { kind: 'string' } },
      { key: 'health_calls_today', label: 'Dials today', type: { kind: 'integer' } },
    ],
  };
}
