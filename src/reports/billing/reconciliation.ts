import { jsonSchemaOf, type ColumnDecl, type ReportDeclaration } from '../declaration.ts';
import { pagination } from '../format.ts';
import { arr, decimal, int as intSchema, obj, str } from '../schema.ts';

const D4 = decimal(4);

const n = (v: unknown) => Number(v ?? 0);
const int = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'integer' } });
const text = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'string' } });
const money = (key: string, label: string): ColumnDecl => ({ key, label, type: { kind: 'string' }, cell: 'number' });

const MISMATCH_COLUMNS: readonly ColumnDecl[] = [
    int('account_id', 'Account ID'), text('problem', 'Problem'), text('ref_type', 'Record type'),
    { key: 'ref_id', label: 'Record ID', type: { kind: 'integer', nullable: true } },
    { key: 'ledger_id', label: 'Ledger row ID', type: { kind: 'integer', nullable: true } },
    { key: 'occurred_at', label: 'At (UTC)', type: { kind: 'string' }, cell: 'datetime' },
    money('record_credits', 'Record credits'), money('charged_credits', 'Charged credits'), money('difference', 'Difference'),
];

/** Every row behind a mismatch: the second sheet of the reconciliation workbook, and its CSV. */
export const billingMismatches: ReportDeclaration = {
  family: 'billing', name: 'mismatches', title: 'Billing mismatches', sql: 'billing/mismatches.sql',
  params: ['month', 'account_id', 'format'], required: ['month'], result: 'rows', exportable: true,
  filename: (ctx) => `billing_mismatches_${ctx.params.month}`,
  columns: MISMATCH_COLUMNS,
};

/** The same rows as JSON, a page at a time: `{month, pagination, data}`. */
export const billingMismatchPage: ReportDeclaration = {
  family: 'billing', name: 'mismatch-page', title: 'Billing mismatches (JSON pages)', sql: 'billing/mismatch-page.sql',
  params: ['month', 'account_id', 'format', 'page', 'page_size'], required: ['month'], result: 'custom', exportable: false,
  // JSON pages (page, page_size), or every row as CSV or XLSX.
  endpoint: {
    path: '/api/billing/mismatches', auth: 'bearer', envelope: 'body', formats: ['json', 'csv', 'xlsx'], files: billingMismatches,
    description: 'The rows behind the month\'s mismatches: JSON a page at a time (page, page_size); CSV and XLSX every row (page and page_size are not accepted there).',
  },
  columns: MISMATCH_COLUMNS,
  responseSchema: obj({
    month: str({ pattern: '^\\d{4}-\\d{2}$' }),
    pagination: obj({ total_items: intSchema(), total_pages: intSchema(), page_number: intSchema(), has_next: { type: 'boolean' }, has_previous: { type: 'boolean' } }),
    data: arr(obj(Object.fromEntries(MISMATCH_COLUMNS.map((c) => [c.key, jsonSchemaOf(c)])))),
  }),
  shape: (rows, columns, ctx) => {
    return {
      month: ctx.params.month,
      pagination: pagination(n(rows[0]?.total_items), ctx.params.page, ctx.params.page_size),
      data: ((rows[0]?.rows as Record<string, unknown>[] | null) ?? []).map(columns),
    };
  },
};

/**
 * The monthly billing reconciliation (docs/reports.md): one row per account, each month cut
 * in the account's own timezone, decimals exact (DuckDB DECIMAL, written as text). The
 * columns are the CSV and the XLSX summary sheet; JSON nests them as the spec shows.
 */
export const billingReconciliation: ReportDeclaration = {
  family: 'billing', name: 'reconciliation', title: 'Billing reconciliation', sql: 'billing/reconciliation.sql',
  params: ['month', 'account_id', 'format'], required: ['month'], result: 'custom', exportable: true,
  endpoint: {
    path: '/api/billing/reconciliation', auth: 'bearer', envelope: 'body',
    sheets: [{ name: 'Mismatches', report: billingMismatches }],
    description: 'CSV is the summary; XLSX has a Summary and a Mismatches sheet.',
  },
  filename: (ctx) => `billing_reconciliation_${ctx.params.month}`,
  columns: [
    int('account_id', 'Account ID'), text('auth_id', 'Auth ID'), text('name', 'Account'), text('timezone', 'Timezone'),
    int('calls_count', 'Calls'), int('calls_billable_minutes', 'Billable minutes'), money('calls_cost', 'Calls cost'), money('calls_credits', 'Calls credits'),
    int('sms_count', 'SMS'), int('sms_segments', 'SMS segments'), money('sms_cost', 'SMS cost'), money('sms_credits', 'SMS credits'),
    money('ledger_opening_balance', 'Opening balance'), money('ledger_purchases', 'Purchases'), money('ledger_usage', 'Usage'),
    money('ledger_refunds', 'Refunds'), money('ledger_adjustments', 'Adjustments'), money('ledger_closing_balance', 'Closing balance'),
    text('status', 'Status'),
    { key: 'complete', label: 'Month complete', type: { kind: 'boolean' } },
    int('usage_without_record_count', 'Usage without record'), money('usage_without_record_credits', 'Usage without record (credits)'),
    int('record_without_usage_count', 'Record without usage'), money('record_without_usage_credits', 'Record without usage (credits)'),
    int('credits_differ_count', 'Credits differ'), money('credits_differ_difference', 'Credits difference'),
  ],
  responseSchema: obj({
    month: str({ pattern: '^\\d{4}-\\d{2}$' }),
    complete: { type: 'boolean', description: 'Whether the month has ended in every account\'s timezone' },
    data: arr(obj({
      account_id: intSchema(), auth_id: str(), name: str(), timezone: str(),
      complete: { type: 'boolean', description: 'Whether the month has ended in the account\'s timezone: until then its figures are partial' },
      calls: obj({ count: intSchema(), billable_minutes: intSchema(), cost: D4, credits: D4 }),
      sms: obj({ count: intSchema(), segments: intSchema(), cost: D4, credits: D4 }),
      ledger: obj({ opening_balance: D4, purchases: D4, usage: D4, refunds: D4, adjustments: D4, closing_balance: D4 }),
      reconciliation: obj({
        status: str({ enum: ['ok', 'mismatch'] }),
        usage_without_record: obj({ count: intSchema(), credits: D4 }),
        record_without_usage: obj({ count: intSchema(), credits: D4 }),
        credits_differ: obj({ count: intSchema(), difference: D4 }),
      }),
    })),
  }),
  shape: (rows, _columns, ctx) => ({
    month: ctx.params.month,
    complete: rows.every((r) => r.complete === true),
    data: rows.map((r) => ({
      account_id: n(r.account_id), auth_id: r.auth_id, name: r.name, timezone: r.timezone, complete: r.complete === true,
      calls: { count: n(r.calls_count), billable_minutes: n(r.calls_billable_minutes), cost: r.calls_cost, credits: r.calls_credits },
      sms: { count: n(r.sms_count), segments: n(r.sms_segments), cost: r.sms_cost, credits: r.sms_credits },
      ledger: {
        opening_balance: r.ledger_opening_balance, purchases: r.ledger_purchases, usage: r.ledger_usage,
        refunds: r.ledger_refunds, adjustments: r.ledger_adjustments, closing_balance: r.ledger_closing_balance,
      },
      reconciliation: {
        status: r.status,
        usage_without_record: { count: n(r.usage_without_record_count), credits: r.usage_without_record_credits },
        record_without_usage: { count: n(r.record_without_usage_count), credits: r.record_without_usage_credits },
        credits_differ: { count: n(r.credits_differ_count), difference: r.credits_differ_difference },
      },
    })),
  }),
};
