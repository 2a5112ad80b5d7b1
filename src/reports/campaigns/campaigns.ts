import type { ColumnDecl, ReportDeclaration } from '../declaration.ts';
import { hms as formatHms, pagination } from '../format.ts';
import { arr, bool, hms, int, num, obj, str } from '../schema.ts';
import { CALL_STATUSES } from '../../source/contract.ts';

const n = (v: unknown) => Number(v ?? 0);

interface CampaignRow {
  id: unknown; name: string; type: string; status: string; total_numbers: unknown; attempts: unknown;
  by_status: { status: string; n: unknown }[] | null; talk_sec: unknown; credits: string;
}

/**
 * The campaign report summary (docs/reports.md "Campaign reports"): a page of
 * campaigns over their whole life, paginated as the platform's campaign list.
 */
export const campaignSummary: ReportDeclaration = {
  family: 'campaigns', name: 'summary', title: 'Campaign report summary', sql: 'campaigns/summary.sql',
  params: ['page', 'page_size', 'account_id'], result: 'custom', exportable: false, columns: [],
  endpoint: { path: '/api/system/campaigns/report/summary/', auth: 'bearer', envelope: 'body' },
  responseSchema: obj({
    pagination: obj({ total_items: int(), total_pages: int(), page_number: int(), has_next: bool, has_previous: bool }),
    data: arr(obj({
      id: int(), name: str(), type: str(), status: str(), total_numbers: int(), attempts: int(),
      calls_by_status: obj(Object.fromEntries(CALL_STATUSES.map((s) => [s, int()]))), total_duration: hms, credits_consumed: num,
    })),
  }),
  shape: (rows, _columns, ctx) => {
    const r = rows[0];
    return {
      pagination: pagination(n(r.total_items), ctx.params.page, ctx.params.page_size),
      data: ((r.campaigns as CampaignRow[] | null) ?? []).map((c) => {
        const counts = new Map((c.by_status ?? []).map((s) => [s.status, n(s.n)]));
        return {
          id: n(c.id), name: c.name, type: c.type, status: c.status,
          total_numbers: n(c.total_numbers), attempts: n(c.attempts),
          calls_by_status: Object.fromEntries(CALL_STATUSES.map((s) => [s, counts.get(s) ?? 0])),
          total_duration: formatHms(n(c.talk_sec)),
          credits_consumed: Number(c.credits),
        };
      }),
    };
  },
};

const col = (key: string, type: ColumnDecl['type'], cell?: ColumnDecl['cell']): ColumnDecl => ({ key, label: key, type, ...(cell ? { cell } : {}) });

/**
 * The per-campaign report download: one row per lead, the header exactly the platform's
 * seven names. A spreadsheet, not JSON: XLSX unless format=csv.
 */
export const campaignDownload: ReportDeclaration = {
  family: 'campaigns', name: 'campaign-report', title: 'Campaign report', sql: 'campaigns/download.sql',
  params: ['campaign_id', 'format', 'timezone'], required: ['campaign_id'], result: 'rows', exportable: true,
  endpoint: { path: '/api/system/campaigns/report/download/', auth: 'bearer', envelope: 'body', formats: ['xlsx', 'csv'] },
  filename: (ctx) => `campaign_${ctx.params.campaign_id}_report`,
  columns: [
    col('number', { kind: 'string' }, 'text'),
    col('status', { kind: 'string' }),
    col('duration', { kind: 'integer', nullable: true }),
    col('playback', { kind: 'integer', nullable: true }),
    col('credit_consumed', { kind: 'string' }, 'number'),
    col('attempts', { kind: 'integer' }),
    col('last_attempt_at', { kind: 'string' }, 'datetime'),
  ],
};
