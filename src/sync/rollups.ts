/**
 * The roll-ups (sql/schema/002_call_slots.sql, 003_lead_activity.sql): their one
 * definition, and the statements that keep them equal to an aggregation of `calls` and
 * `leads` inside each sync transaction. A batch recomputes exactly the (account, slot)
 * pairs and the leads it touches, before and after the change, so a call that moved
 * slot, account or lead leaves nothing stale behind.
 */

/** Bump when an aggregation changes: the next sync rebuilds the roll-ups from the store. */
export const ROLLUPS_VERSION = '3';

function aggregate(where: string): string {
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

/** Records as touched the (account_id, slot15) pairs a query yields. */
export function touchCallSlots(pairs: string): string {
  return `CREATE OR REPLACE TEMP TABLE touched_slots AS SELECT DISTINCT account_id, slot15 FROM (${pairs})`;
}

/** Records as touched the lead ids a query yields (as `id`). */
export function touchLeads(ids: string): string {
  return `CREATE OR REPLACE TEMP TABLE touched_leads AS SELECT DISTINCT id FROM (${ids}) WHERE id IS NOT NULL`;
}

/** `touched` limits both sides before the join: DuckDB does not push it into calls itself. */
function leadActivity(touched: string | null): string {
  const where = touched ? `WHERE l.id IN (${touched})` : '';
  const calls = touched ? `(SELECT * FROM calls WHERE lead_id IN (${touched}))` : 'calls';
  return `SELECT l.id, l.account_id, l.campaign_id, l.source, l.created_at, l.deleted_at,
      coalesce(bool_or(c.id IS NOT NULL
        AND (c.account_id <> l.account_id OR c.campaign_id IS DISTINCT FROM l.campaign_id OR c.started_at < l.created_at)), false),
      min(c.started_at) FILTER (WHERE c.is_dial),
      min(c.started_at) FILTER (WHERE c.is_dial AND c.is_answered),
      min(c.started_at) FILTER (WHERE c.is_dial AND c.talk_sec > 30),
      min(c.started_at) FILTER (WHERE c.disposition_code IS NOT NULL),
      min(c.started_at) FILTER (WHERE c.is_conversion)
    FROM leads l LEFT JOIN ${calls} c ON c.lead_id = l.id
    ${where}
    GROUP BY l.id, l.account_id, l.campaign_id, l.source, l.created_at, l.deleted_at`;
}

/** Recomputes the touched leads from leads and calls (after the change). */
export function refreshLeadActivity(): string[] {
  return [
    `DELETE FROM lead_activity WHERE lead_id IN (SELECT id FROM touched_leads)`,
    `INSERT INTO lead_activity ${leadActivity('SELECT id FROM touched_leads')}`,
  ];
}

/** Recomputes the touched slots from calls (after the change). */
export function refreshCallSlots(): string[] {
  const bounds = `slot15 BETWEEN (SELECT min(slot15) FROM touched_slots) AND (SELECT max(slot15) FROM touched_slots)`;
  return [
    `DELETE FROM call_slots WHERE ${bounds} AND (account_id, slot15) IN (SELECT account_id, slot15 FROM touched_slots)`,
    `INSERT INTO call_slots ${aggregate(`WHERE ${bounds} AND (account_id, slot15) IN (SELECT account_id, slot15 FROM touched_slots)`)}`,
  ];
}

/** Rebuilds the whole roll-up when its definition changed (or on a store that predates it). */
export function rebuildRollups(): string[] {
  return [
    `DELETE FROM call_slots`,
    // Ordered by account and time, so a report's window skips the other row groups.
    `INSERT INTO call_slots SELECT * FROM (${aggregate('')}) ORDER BY account_id, slot15`,
    `DELETE FROM lead_activity`,
    `INSERT INTO lead_activity SELECT * FROM (${leadActivity(null)}) ORDER BY account_id, created_at`,
    `INSERT OR REPLACE INTO store_meta (key, value) VALUES ('rollups_version', '${ROLLUPS_VERSION}')`,
  ];
}
