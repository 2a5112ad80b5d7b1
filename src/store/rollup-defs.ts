// The roll-ups' one definition each (their tables are sql/schema/002, 003, 005, 006, 007
// and 011): the SELECT that computes a roll-up's rows from the facts a WHERE clause keeps.
// The sync keeps the stored roll-ups equal to these (src/sync/rollups.ts), and the report
// macros `<roll-up>_of` group a window's partial end slots with the very same SQL.

/** Bump when an aggregation changes: the next sync rebuilds the roll-ups from the store. */
export const ROLLUPS_VERSION = '8';

/** call_slots' rows from the calls a WHERE clause keeps. */
export function callSlots(where: string): string {
  return `SELECT account_id, slot15, campaign_id, agent_id,
      count(*) FILTER (WHERE is_dial)::INTEGER,
      count(*) FILTER (WHERE is_dial AND is_answered)::INTEGER,
      coalesce(sum(talk_sec) FILTER (WHERE is_dial AND is_answered), 0),
      coalesce(sum(talk_sec + wrap_sec) FILTER (WHERE is_dial AND is_answered), 0),
      count(*) FILTER (WHERE is_dial AND is_conversion)::INTEGER,
      count(*) FILTER (WHERE direction = 'outbound' AND status = 'blocked')::INTEGER
    FROM calls ${where}
    GROUP BY ALL`;
}

/**
 * call_groups' rows from the calls a WHERE clause keeps. Also the report macro
 * `call_groups_of` (rollupMacros), so a window's partial slots are summed exactly as the
 * stored whole ones.
 */
export function callGroups(where: string): string {
  return `SELECT account_id, slot15, campaign_id, direction, product, status,
      count(*)::INTEGER,
      count(*) FILTER (WHERE is_answered)::INTEGER,
      coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0)::BIGINT,
      coalesce(sum(ceil(talk_sec / 60)::BIGINT) FILTER (WHERE is_answered), 0)::BIGINT,
      sum(cost)::DECIMAL(18,4),
      sum(credits)::DECIMAL(18,4),
      count(pct)::INTEGER,
      count(*) FILTER (WHERE pct IS NOT NULL AND played > 0)::INTEGER,
      coalesce(sum(played) FILTER (WHERE pct IS NOT NULL), 0)::BIGINT,
      coalesce(sum(pct), 0)::DOUBLE,
      count(*) FILTER (WHERE pct < 25)::INTEGER,
      count(*) FILTER (WHERE pct >= 25 AND pct < 50)::INTEGER,
      count(*) FILTER (WHERE pct >= 50 AND pct < 75)::INTEGER,
      count(*) FILTER (WHERE pct >= 75)::INTEGER
    FROM (
      SELECT *, coalesce(playback_sec, 0) AS played,
        CASE WHEN message_sec > 0 THEN coalesce(playback_sec, 0) * 100.0 / message_sec END AS pct
      FROM calls ${where}
    )
    GROUP BY account_id, slot15, campaign_id, direction, product, status`;
}

/** caller_slots' rows from the calls a WHERE clause keeps (dials with a caller ID only). */
export function callerSlots(where: string): string {
  return `SELECT account_id, slot15, campaign_id, caller_id_id,
      count(*)::INTEGER,
      count(*) FILTER (WHERE is_answered)::INTEGER,
      coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0)::BIGINT,
      count(*) FILTER (WHERE is_answered AND talk_sec < 10)::INTEGER,
      count(*) FILTER (WHERE status IN ('rejected', 'busy'))::INTEGER
    FROM calls ${where ? `${where} AND` : 'WHERE'} is_dial AND caller_id_id IS NOT NULL
    GROUP BY account_id, slot15, campaign_id, caller_id_id`;
}

/** disposition_slots' rows from the calls a WHERE clause keeps (disposed calls only). */
export function dispositionSlots(where: string): string {
  return `SELECT account_id, slot15, campaign_id, disposition_code, count(*)::INTEGER
    FROM calls ${where ? `${where} AND` : 'WHERE'} disposition_code IS NOT NULL
    GROUP BY account_id, slot15, campaign_id, disposition_code`;
}

/** The 15-minute UTC slot of a row's created_at: the ledger's and the leads' roll-up key. */
export const CREATED_SLOT = `floor(epoch(created_at) / 900)::INTEGER`;

export function ledgerSlots(where: string): string {
  return `SELECT account_id, ${CREATED_SLOT} AS slot15, kind, sum(credits)::DECIMAL(18,4), count(*)::INTEGER
    FROM credit_transactions ${where}
    GROUP BY ALL`;
}

/**
 * `col` within the range of the values a one-column query yields, as bounds that let DuckDB
 * skip the row groups outside it before an IN filter. With nothing touched they are an
 * empty range, which skips them all: NULL bounds scanned every row group (0.4 s of the
 * ledger for a 10,000-call batch whose credits did not change).
 */
export function within(col: string, values: string): string {
  return `${col} BETWEEN coalesce((SELECT min(v) FROM (${values}) t(v)), 0) AND coalesce((SELECT max(v) FROM (${values}) t(v)), -1)`;
}

/**
 * billing_issues' rows. `touched` limits them to the references in touched_refs and the
 * ledger rows in touched_ledger: every record and usage row whose matching can have
 * changed, since a usage row and the record it names share one reference.
 */
export function billingIssues(touched: boolean): string {
  const refsOf = (type: string) => `SELECT ref_id FROM touched_refs WHERE ref_type = '${type}'`;
  const records = (type: string) => touched ? `WHERE ${within('id', refsOf(type))} AND id IN (${refsOf(type)})` : '';
  const usageCols = `SELECT id, account_id, ref_type, ref_id, created_at, credits FROM credit_transactions WHERE kind = 'usage'`;
  const usage = touched
    ? `${usageCols} AND ${within('ref_id', 'SELECT ref_id FROM touched_refs')}
         AND (ref_type, ref_id) IN (SELECT ref_type, ref_id FROM touched_refs)
       UNION
       ${usageCols} AND ${within('id', 'SELECT id FROM touched_ledger')}
         AND id IN (SELECT id FROM touched_ledger)`
    : usageCols;
  return `WITH recs AS MATERIALIZED (
      SELECT account_id, 'call' AS ref_type, id AS ref_id, started_at AS "at", credits FROM calls ${records('call')}
      UNION ALL
      SELECT account_id, 'sms', id, sent_at, credits FROM sms_messages ${records('sms')}
    ),
    usage AS MATERIALIZED (${usage}),
    charged AS (
      SELECT account_id, ref_type, ref_id, -sum(credits) AS charged, count(*) AS usage_rows
      FROM usage GROUP BY ALL
    )
    SELECT r.account_id, CASE WHEN ch.usage_rows IS NULL THEN 'record_without_usage' ELSE 'credits_differ' END,
      r.ref_type, r.ref_id, NULL::BIGINT, r."at", r.credits, coalesce(ch.charged, 0)
    FROM recs r LEFT JOIN charged ch ON ch.account_id = r.account_id AND ch.ref_type = r.ref_type AND ch.ref_id = r.ref_id
    WHERE (ch.usage_rows IS NULL AND r.credits > 0) OR (ch.usage_rows IS NOT NULL AND r.credits <> ch.charged)
    UNION ALL
    SELECT u.account_id, 'usage_without_record', u.ref_type, u.ref_id, u.id, u.created_at, NULL, -u.credits
    FROM usage u ANTI JOIN recs r ON r.account_id = u.account_id AND r.ref_type = u.ref_type AND r.ref_id = u.ref_id`;
}

/**
 * Report macros built from the roll-ups' own definitions: `<roll-up>_of(accounts, from,
 * to)` groups the calls of a window exactly as the roll-up does, so a window's partial
 * end slots are summed from the calls as the stored whole ones were (see window_slots in
 * sql/macros/3-rollups.sql).
 */
export function rollupMacros(): string {
  const rows = `WHERE account_id BETWEEN list_min(p_accounts) AND list_max(p_accounts) AND list_contains(p_accounts, account_id)
      AND started_at >= p_from AND started_at < p_to`;
  const of = (name: string, definition: (where: string) => string) =>
    `CREATE OR REPLACE MACRO ${name}_of(p_accounts, p_from, p_to) AS TABLE\n    ${definition(rows)}`;
  return [
    of('call_groups', callGroups), of('call_slots', callSlots), of('caller_slots', callerSlots), of('disposition_slots', dispositionSlots),
  ].join(';\n');
}

/** lead_slots' rows from the lead_activity rows a WHERE clause keeps (non-deleted leads only). */
export function leadSlots(where: string): string {
  const regular = (agg: string) => `${agg} FILTER (WHERE NOT irregular)`;
  return `SELECT account_id, ${CREATED_SLOT} AS slot15, campaign_id, source,
      ${['*', 'first_dial', 'first_connect', 'first_talk', 'first_dispose', 'first_convert'].map((c) => `${regular(`count(${c})`)}::INTEGER`).join(', ')},
      ${regular('max(greatest(first_dial, first_connect, first_talk, first_dispose, first_convert))')},
      count(*) FILTER (WHERE irregular)::INTEGER
    FROM lead_activity ${where ? `${where} AND` : 'WHERE'} deleted_at IS NULL
    GROUP BY ALL`;
}

/** `touched` limits both sides before the join: DuckDB does not push it into calls itself. */
export function leadActivity(touched: string | null): string {
  const where = touched ? `WHERE l.id IN (${touched})` : '';
  const calls = touched ? `(SELECT * FROM calls WHERE lead_id IN (${touched}))` : 'calls';
  return `SELECT l.id, l.account_id, l.campaign_id, l.source, l.created_at, l.deleted_at,
      coalesce(bool_or(c.id IS NOT NULL
        AND (c.account_id <> l.account_id OR c.campaign_id IS DISTINCT FROM l.campaign_id OR c.started_at < l.created_at)), false),
      min(c.started_at) FILTER (WHERE c.is_dial),
      min(c.started_at) FILTER (WHERE c.is_dial AND c.is_answered),
      min(c.started_at) FILTER (WHERE c.is_dial AND c.talk_sec > 30),
      min(c.started_at) FILTER (WHERE c.disposition_code IS NOT NULL),
      min(c.started_at) FILTER (WHERE c.is_dial AND c.is_conversion)
    FROM leads l LEFT JOIN ${calls} c ON c.lead_id = l.id
    ${where}
    GROUP BY l.id, l.account_id, l.campaign_id, l.source, l.created_at, l.deleted_at`;
}
