import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const hourDowHeatmap: ReportDeclaration = {
  family: 'telesales', name: 'hour-dow-heatmap', title: 'Hour × weekday heatmap', sql: 'telesales/hour-dow-heatmap.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'day_of_week', label: 'Day of week (0 = Sun)', type: { kind: 'integer' } },
    { key: 'hour', label: 'Hour', type: { kind: 'integer' } },
    { key: 'dials', label: 'Dials', type: { kind: 'integer' } },
    { key: 'answered', label: 'Answered', type: { kind: 'integer' } },
    { key: 'answer_rate_pct', label: 'Answer rate %', type: { kind: 'ratio', num: 'answered', den: 'dials', scale: 100, digits: 1, as: 'number' } },
  ],
};
