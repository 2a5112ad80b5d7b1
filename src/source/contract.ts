/**
 * The source contract of ../shared/spec/SOURCE.md as data: every table the connector
 * reads, its columns, their kinds and domains. The sync, the staging tables, the
 * validation SQL and the demo generator's DDL all derive from this one description.
 */

export type ColumnKind = 'int' | 'text' | 'time' | 'bool' | 'decimal';

export interface SourceColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable?: boolean;
  /** Allowed values of a text column; anything else quarantines the row. */
  readonly domain?: readonly string[];
}

export interface SourceTable {
  readonly name: string;
  readonly columns: readonly SourceColumn[];
  /** `updated_at`: keyset on (updated_at, id); `id`: append-only, keyset on id. */
  readonly cursor: 'updated_at' | 'id';
  /** Whether rows must name an existing account (quarantined as "missing account"). */
  readonly accountScoped: boolean;
}

const col = (name: string, kind: ColumnKind, extra: Partial<SourceColumn> = {}): SourceColumn => ({ name, kind, ...extra });
const opt = (name: string, kind: ColumnKind, extra: Partial<SourceColumn> = {}): SourceColumn => col(name, kind, { nullable: true, ...extra });

export const CALL_STATUSES = ['completed', 'hungup', 'unanswered', 'busy', 'rejected', 'failed', 'terminated', 'abandoned', 'blocked'] as const;
export const CAMPAIGN_TYPES = ['voice_broadcast', 'sms', 'telesales', 'inbound'] as const;
export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'completed'] as const;
export const DISPOSITION_CATEGORIES = ['contact', 'no_contact', 'callback', 'remove'] as const;
export const CARRIERS = ['viettel', 'mobifone', 'vinaphone', 'vietnamobile', 'landline', 'other'] as const;
export const CLI_TYPES = ['mobile', 'fixed_02x', 'hotline_1900', 'hotline_1800', 'brandname'] as const;
export const POOL_STATUSES = ['active', 'cooldown', 'paused', 'disabled'] as const;
export const SMS_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const LEDGER_KINDS = ['purchase', 'usage', 'refund', 'adjustment'] as const;

/** Tables in the order a sync must load them: parents before the rows that name them. */
export const SOURCE_TABLES: readonly SourceTable[] = [
  {
    name: 'partners', cursor: 'updated_at', accountScoped: false,
    columns: [col('id', 'int'), col('name', 'text'), opt('email', 'text'), col('created_at', 'time'), col('updated_at', 'time')],
  },
  {
    name: 'accounts', cursor: 'updated_at', accountScoped: false,
    columns: [
      col('id', 'int'), opt('partner_id', 'int'), col('auth_id', 'text'), col('name', 'text'), opt('email', 'text'),
      opt('phone', 'text'), col('is_active', 'bool'), opt('timezone', 'text'), col('created_at', 'time'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'teams', cursor: 'updated_at', accountScoped: true,
    columns: [col('id', 'int'), col('account_id', 'int'), col('name', 'text'), col('updated_at', 'time')],
  },
  {
    name: 'agents', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), opt('team_id', 'int'), col('name', 'text'), col('username', 'text'),
      col('created_at', 'time'), col('updated_at', 'time'), opt('deleted_at', 'time'),
    ],
  },
  {
    name: 'campaigns', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('name', 'text'), opt('description', 'text'),
      col('type', 'text', { domain: CAMPAIGN_TYPES }), col('status', 'text', { domain: CAMPAIGN_STATUSES }),
      opt('abandon_limit_pct', 'decimal'), col('created_at', 'time'), col('updated_at', 'time'), opt('deleted_at', 'time'),
    ],
  },
  {
    name: 'leads', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('campaign_id', 'int'), col('phone', 'text'), opt('source', 'text'),
      col('created_at', 'time'), col('updated_at', 'time'), opt('deleted_at', 'time'),
    ],
  },
  {
    name: 'dispositions', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('code', 'text'), col('label', 'text'),
      col('category', 'text', { domain: DISPOSITION_CATEGORIES }), opt('color', 'text'), col('is_conversion', 'bool'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'caller_ids', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('cid', 'text'), opt('display_name', 'text'),
      col('carrier', 'text', { domain: CARRIERS }), col('cli_type', 'text', { domain: CLI_TYPES }),
      col('pool_status', 'text', { domain: POOL_STATUSES }), opt('cooldown_until', 'time'), col('daily_cap', 'int'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'phone_numbers', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('phone_number', 'text'), opt('sid', 'text'), opt('rate', 'decimal'),
      opt('capabilities', 'text'), col('acquired_at', 'time'), opt('released_at', 'time'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'calls', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), opt('campaign_id', 'int'), opt('lead_id', 'int'), opt('agent_id', 'int'),
      opt('caller_id_id', 'int'), col('direction', 'text', { domain: ['outbound', 'inbound'] }),
      col('product', 'text', { domain: ['voice_api', 'sip_trunking'] }), opt('from_number', 'text'), opt('to_number', 'text'),
      opt('origin', 'text'), opt('attribution', 'text'), col('status', 'text', { domain: CALL_STATUSES }),
      col('started_at', 'time'), opt('answered_at', 'time'), opt('ended_at', 'time'), col('talk_sec', 'int'), col('wrap_sec', 'int'),
      opt('message_sec', 'int'), opt('playback_sec', 'int'), opt('disposition_code', 'text'), col('credits', 'decimal'),
      col('cost', 'decimal'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'sms_messages', cursor: 'updated_at', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), opt('campaign_id', 'int'), opt('to_number', 'text'),
      col('status', 'text', { domain: SMS_STATUSES }), col('sent_at', 'time'), col('segments', 'int'),
      col('credits', 'decimal'), col('cost', 'decimal'), col('updated_at', 'time'),
    ],
  },
  {
    name: 'credit_transactions', cursor: 'id', accountScoped: true,
    columns: [
      col('id', 'int'), col('account_id', 'int'), col('kind', 'text', { domain: LEDGER_KINDS }), col('credits', 'decimal'),
      opt('amount', 'decimal'), opt('ref_type', 'text', { domain: ['call', 'sms'] }), opt('ref_id', 'int'), col('created_at', 'time'),
    ],
  },
];

export function sourceTable(name: string): SourceTable {
  const t = SOURCE_TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`unknown source table ${name}`);
  return t;
}
