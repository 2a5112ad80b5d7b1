import type { ParamTypes } from '../store/duckdb.ts';
import { CALL_STATUSES } from '../source/contract.ts';
import { MAX_DAY_RANGE, MAX_SPAN_DAYS, type ParamName } from './params.ts';
import { arr, int, str, type Schema } from './schema.ts';

/**
 * Every request parameter a report can take, described once: its documentation and JSON
 * schema (the OpenAPI document), and the SQL parameter its value binds to with its type.
 * Its reader, with the 422 texts, is parseParams (src/reports/params.ts).
 */
export interface ParamSpec {
  /** The query key when it is not the parameter's name (`agent_ids[]`). */
  readonly query?: string;
  readonly doc: string;
  readonly schema: Schema;
  /** The SQL parameter the value binds to, and its DuckDB type; none for options that shape the answer only. */
  readonly sql?: { readonly name: string; readonly type: ParamTypes[string] };
}

export const PARAMS: Readonly<Record<ParamName, ParamSpec>> = {
  campaign_id: { doc: 'campaign in scope (404 otherwise)', schema: int({ minimum: 1 }), sql: { name: 'campaign_id', type: 'bigint' } },
  date_from: { doc: 'YYYY-MM-DD (a local day of timezone) or an ISO 8601 date-time', schema: str(), sql: { name: 'from', type: 'varchar' } },
  date_to: {
    doc: `YYYY-MM-DD (includes the whole day) or an ISO 8601 date-time; at most ${MAX_SPAN_DAYS} days after date_from`,
    schema: str(), sql: { name: 'to', type: 'varchar' },
  },
  agent_ids: { query: 'agent_ids[]', doc: 'agents in scope, at most 100', schema: arr(int({ minimum: 1 })), sql: { name: 'agent_ids', type: 'bigint[]' } },
  team_id: { doc: 'team in scope (its agents)', schema: int({ minimum: 1 }), sql: { name: 'team_id', type: 'bigint' } },
  timezone: { doc: 'IANA timezone of days, hours and local dates', schema: str({ default: 'UTC' }), sql: { name: 'tz', type: 'varchar' } },
  group_by: { doc: 'time bucket', schema: str({ enum: ['day', 'week', 'hour'], default: 'day' }), sql: { name: 'group_by', type: 'varchar' } },
  window_minutes: { doc: 'realtime window ending now', schema: int({ minimum: 1, maximum: 525_600, default: 43_200 }) },
  account_id: { doc: 'narrows the scope to one account (admins and partners)', schema: int({ minimum: 1 }) },
  format: { doc: 'response format', schema: str() },
  bom: { doc: 'CSV only: start with a UTF-8 byte order mark (Excel)', schema: str({ enum: ['0', '1'] }) },
  template: { doc: "an export layout of the account's templates", schema: str({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
  direction: { doc: 'call direction', schema: str({ enum: ['outbound', 'inbound'] }), sql: { name: 'direction', type: 'varchar' } },
  status: { doc: 'call status', schema: str({ enum: [...CALL_STATUSES] }), sql: { name: 'status', type: 'varchar' } },
  limit: { doc: 'JSON page size', schema: int({ minimum: 1 }), sql: { name: 'limit', type: 'bigint' } },
  cursor: { doc: 'next_cursor of the previous page', schema: str() },
  days: { doc: 'the last days × 24 h ending now', schema: int({ minimum: 1, maximum: MAX_DAY_RANGE, default: 30 }) },
  from_date: { doc: 'YYYY-MM-DD; default: 29 days before to_date', schema: str({ format: 'date' }), sql: { name: 'from', type: 'varchar' } },
  to_date: { doc: `YYYY-MM-DD, included; default: today; at most ${MAX_DAY_RANGE} days after from_date`, schema: str({ format: 'date' }), sql: { name: 'to', type: 'varchar' } },
  customer_id: { doc: 'one customer (account) in scope', schema: int({ minimum: 1 }), sql: { name: 'customer_id', type: 'bigint' } },
  page: { doc: 'page number', schema: int({ minimum: 1, default: 1 }), sql: { name: 'page', type: 'bigint' } },
  page_size: { doc: 'items per page', schema: int({ minimum: 1, maximum: 100, default: 25 }), sql: { name: 'page_size', type: 'bigint' } },
  month: { doc: "YYYY-MM, cut in each account's timezone", schema: str({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }), sql: { name: 'month', type: 'varchar' } },
};

/** The DuckDB type of every SQL parameter a request's values bind to. */
export const PARAM_SQL_TYPES: ParamTypes = Object.fromEntries(
  Object.values(PARAMS).flatMap((p) => (p.sql ? [[p.sql.name, p.sql.type]] : [])),
);
