import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const dispositionBreakdown: ReportDeclaration = {
  family: 'telesales', name: 'disposition-breakdown', title: 'Disposition breakdown', sql: 'telesales/disposition-breakdown.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'code', label: 'Code', type: { kind: 'string' } },
    { key: 'label', label: 'Label', type: { kind: 'string' } },
    { key: 'category', label: 'Category', type: { kind: 'string' } },
    { key: 'color', label: 'Color', type: { kind: 'string' } },
    { key: 'count', label: 'Calls', type: { kind: 'integer' } },
    { key: 'pct', label: '% of dispositioned calls', type: { kind: 'ratio', num: 'count', den: 'total', scale: 100, digits: 2, as: 'string' } },
  ],
};
