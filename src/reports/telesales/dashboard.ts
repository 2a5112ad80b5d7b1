import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const dashboard: ReportDeclaration = {
  family: 'telesales', name: 'dashboard', title: 'Overall KPIs', sql: 'telesales/dashboard.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'object',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'total_dials', label: 'Dials', type: { kind: 'integer' } },
    { key: 'total_answers', label: 'Answers', type: { kind: 'integer' } },
    { key: 'answer_rate_pct', label: 'Answer rate %', type: { kind: 'ratio', num: 'total_answers', den: 'total_dials', scale: 100, digits: 2, as: 'string' } },
    { key: 'avg_talk_time_sec', label: 'Avg talk time (s)', type: { kind: 'ratio', num: 'talk_sec', den: 'total_answers', scale: 1, digits: 1, as: 'string' } },
    { key: 'total_talk_time_sec', label: 'Talk time (s)', type: { kind: 'integer_string', from: 'talk_sec' } },
    { key: 'unique_agents', label: 'Agents', type: { kind: 'integer' } },
    { key: 'pdpl_blocked_count', label: 'Blocked (PDPL)', type: { kind: 'integer' } },
  ],
};
