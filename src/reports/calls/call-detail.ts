import { CALL_STATUSES } from '../../source/contract.ts';
import type { ColumnDecl, ReportDeclaration } from '../declaration.ts';

const text = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'string' } });
const time = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'string' }, cell: 'datetime' });
const int = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'integer', nullable: true } });
const money = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'string' }, cell: 'number' });

/** The call detail records (docs/reports.md "Call detail records"): the raw export. */
export const callDetail: ReportDeclaration = {
  family: 'calls', name: 'calls', title: 'Call detail records', sql: 'calls/call-detail.sql',
  params: ['date_from', 'date_to', 'timezone', 'campaign_id', 'agent_ids', 'team_id', 'direction', 'status', 'account_id', 'format', 'limit', 'cursor'],
  required: ['date_from', 'date_to'],
  result: 'rows',
  endpoint: { path: '/api/calls', auth: 'bearer', envelope: 'page' },
  keyset: { order: ['_key_started', 'id'], defaultLimit: 1_000, maxLimit: 10_000, streamPage: 50_000, slices: 'calls/call-slices.sql' },
  domains: { direction: ['outbound', 'inbound'], status: CALL_STATUSES },
  columns: [
    int('id', 'Call ID'),
    time('started_at', 'Started'), time('answered_at', 'Answered'), time('ended_at', 'Ended'),
    text('direction', 'Direction'), text('product', 'Product'), text('status', 'Status'),
    int('account_id', 'Account ID'), int('campaign_id', 'Campaign ID'), text('campaign_name', 'Campaign'),
    int('agent_id', 'Agent ID'), text('agent_name', 'Agent'),
    int('lead_id', 'Lead ID'), text('lead_source', 'Lead source'),
    text('caller_id', 'Caller ID'), text('from_number', 'From'), text('to_number', 'To'),
    int('talk_sec', 'Talk (s)'), int('wrap_sec', 'Wrap (s)'),
    text('disposition_code', 'Disposition'), text('disposition_label', 'Disposition label'),
    money('credits', 'Credits'), money('cost', 'Cost'),
  ],
};
