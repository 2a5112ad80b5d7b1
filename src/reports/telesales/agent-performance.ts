import type { ReportDeclaration } from '../declaration.ts';
import { TELESALES_ENDPOINT, TELESALES_PARAMS, TELESALES_REQUIRED } from './shared.ts';

export const agentPerformance: ReportDeclaration = {
  family: 'telesales', name: 'agent-performance', title: 'Agent performance', sql: 'telesales/agent-performance.sql',
  params: TELESALES_PARAMS, required: TELESALES_REQUIRED, result: 'rows',
  endpoint: TELESALES_ENDPOINT,
  columns: [
    { key: 'agent_id', label: 'Agent ID', type: { kind: 'integer' } },
    { key: 'name', label: 'Name', type: { kind: 'string' } },
    { key: 'username', label: 'Username', type: { kind: 'string' } },
    { key: 'dials', label: 'Dials', type: { kind: 'integer' } },
    { key: 'answers', label: 'Answers', type: { kind: 'integer' } },
    { key: 'avg_aht_sec', label: 'AHT (s)', type: { kind: 'ratio', num: 'handle_sec', den: 'answers', scale: 1, digits: 0, as: 'number' } },
    { key: 'conversions', label: 'Conversions', type: { kind: 'integer' } },
    // Conversions over answers, not over dials (docs/reports.md).
    { key: 'conv_rate', label: 'Conversion rate %', type: { kind: 'ratio', num: 'conversions', den: 'answers', scale: 100, digits: 2, as: 'number' } },
  ],
};
