import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const timeSeries: ReportDeclaration = {
  family: 'telesales', name: 'time-series', title: 'Time series', sql: 'telesales/time-series.sql',
  params: [...TELESALES_PARAMS, 'group_by'], required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'bucket', label: 'Bucket', type: { kind: 'string' }, cell: (p) => (p.group_by === 'day' ? 'date' : p.group_by === 'hour' ? 'datetime' : 'text') },
    { key: 'dials', label: 'Dials', type: { kind: 'integer' } },
    { key: 'answers', label: 'Answers', type: { kind: 'integer' } },
    { key: 'talk_sec', label: 'Talk (s)', type: { kind: 'integer' } },
    { key: 'conversions', label: 'Conversions', type: { kind: 'integer' } },
  ],
};
