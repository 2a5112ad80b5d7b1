import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const leadSourceAttribution: ReportDeclaration = {
  family: 'telesales', name: 'lead-source-attribution', title: 'Lead-source attribution', sql: 'telesales/lead-source-attribution.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'source', label: 'Source', type: { kind: 'string' } },
    { key: 'total_leads', label: 'Leads', type: { kind: 'integer' } },
    { key: 'dialed_count', label: 'Dialed', type: { kind: 'integer' } },
    { key: 'contacted_count', label: 'Contacted', type: { kind: 'integer' } },
    { key: 'conv_count', label: 'Converted', type: { kind: 'integer' } },
    { key: 'conv_rate_pct', label: 'Conversion rate %', type: { kind: 'ratio', num: 'conv_count', den: 'total_leads', scale: 100, digits: 2, as: 'string' } },
  ],
};
