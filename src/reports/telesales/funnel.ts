import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const funnel: ReportDeclaration = {
  family: 'telesales', name: 'funnel', title: 'Lead funnel', sql: 'telesales/funnel.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'stage', label: 'Stage', type: { kind: 'string' } },
    { key: 'count', label: 'Leads', type: { kind: 'integer' } },
  ],
};
