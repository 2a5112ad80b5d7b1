import {
  callSlots, billingIssues, callerSlots, callGroups, CREATED_SLOT, dispositionSlots, leadActivity, leadSlots, ledgerSlots, ROLLUPS_VERSION, within,
} from '../store/rollup-defs.ts';

export { ROLLUPS_VERSION };

// The statements that keep the roll-ups (defined in src/store/rollup-defs.ts) equal to
// an aggregation of the facts inside each sync transaction. A batch recomputes exactly
// the (account, slot) pairs, leads and billing references it touches, before and after
// the change, so a row that moved slot, account, lead or reference leaves nothing stale.

/** Records as touched the (account_id, slot15) pairs of the ledger rows a query yields (as account_id, created_at). */
export function touchLedgerSlots(rows: string): string {
  return `CREATE OR REPLACE TEMP TABLE touched_ledger_slots AS SELECT DISTINCT account_id, ${CREATED_SLOT} AS slot15 FROM (${rows})`;
}

/**
 * Records as touched the billing references (ref_type, ref_id) a query yields and the
 * ledger rows (id) another yields.
 */
export function touchBilling(refs: string, ledgerIds = 'SELECT NULL::BIGINT AS id WHERE false'): string[] {
  return [
    `CREATE OR REPLACE TEMP TABLE touched_refs AS SELECT DISTINCT ref_type, ref_id FROM (${refs}) WHERE ref_type IS NOT NULL AND ref_id IS NOT NULL`,
    `CREATE OR REPLACE TEMP TABLE touched_ledger AS SELECT DISTINCT id FROM (${ledgerIds}) WHERE id IS NOT NULL`,
  ];
}

/** Recomputes the touched ledger slots from the ledger (after the change). */
export function refreshLedgerSlots(): string[] {
  return [
    `DELETE FROM ledger_slots WHERE ${inTouched('touched_ledger_slots')}`,
    `INSERT INTO ledger_slots ${ledgerSlots(createdInTouched('touched_ledger_slots'))}`,
  ];
}

/** A roll-up's rows in the (account_id, slot15) pairs of a touched table, bounded first so DuckDB skips the other row groups. */
function inTouched(touched: string): string {
  return `${within('slot15', `SELECT slot15 FROM ${touched}`)} AND (account_id, slot15) IN (SELECT account_id, slot15 FROM ${touched})`;
}

/** The WHERE of the fact rows whose created_at falls in the (account_id, slot15) pairs of a touched table. */
function createdInTouched(touched: string): string {
  const lo = `(SELECT min(slot15) FROM ${touched})`;
  const hi = `(SELECT max(slot15) FROM ${touched})`;
  return `WHERE created_at >= make_timestamp(${lo}::BIGINT * 900000000) AND created_at < make_timestamp((${hi} + 1)::BIGINT * 900000000)
    AND (account_id, ${CREATED_SLOT}) IN (SELECT account_id, slot15 FROM ${touched})`;
}

/** Recomputes the billing issues of the touched references and ledger rows (after the change). */
export function refreshBillingIssues(): string[] {
  return [
    `DELETE FROM billing_issues WHERE ledger_id IN (SELECT id FROM touched_ledger)
      OR (ref_type, ref_id) IN (SELECT ref_type, ref_id FROM touched_refs)`,
    `INSERT INTO billing_issues ${billingIssues(true)}`,
  ];
}

/** Records as touched the (account_id, slot15) pairs a query yields. */
export function touchCallSlots(pairs: string): string {
  return `CREATE OR REPLACE TEMP TABLE touched_slots AS SELECT DISTINCT account_id, slot15 FROM (${pairs})`;
}

/** Records as touched the lead ids a query yields (as `id`). */
export function touchLeads(ids: string): string {
  return `CREATE OR REPLACE TEMP TABLE touched_leads AS SELECT DISTINCT id FROM (${ids}) WHERE id IS NOT NULL`;
}

/**
 * Recomputes the touched leads from leads and calls (after the change), and the
 * lead_slots of the (account, slot) pairs they left or entered.
 */
export function refreshLeadActivity(): string[] {
  const slotsOfTouched = `SELECT DISTINCT account_id, ${CREATED_SLOT} AS slot15 FROM lead_activity WHERE lead_id IN (SELECT id FROM touched_leads)`;
  return [
    `CREATE OR REPLACE TEMP TABLE touched_lead_slots AS ${slotsOfTouched}`,
    `DELETE FROM lead_activity WHERE lead_id IN (SELECT id FROM touched_leads)`,
    `INSERT INTO lead_activity ${leadActivity('SELECT id FROM touched_leads')}`,
    `INSERT INTO touched_lead_slots ${slotsOfTouched}`,
    `DELETE FROM lead_slots WHERE ${inTouched('touched_lead_slots')}`,
    `INSERT INTO lead_slots ${leadSlots(createdInTouched('touched_lead_slots'))}`,
  ];
}

/** Recomputes the touched slots of call_slots, call_groups, caller_slots and disposition_slots from calls (after the change). */
export function refreshCallSlots(): string[] {
  const touched = `WHERE ${inTouched('touched_slots')}`;
  return [
    `DELETE FROM call_slots ${touched}`,
    `INSERT INTO call_slots ${callSlots(touched)}`,
    `DELETE FROM call_groups ${touched}`,
    `INSERT INTO call_groups ${callGroups(touched)}`,
    `DELETE FROM caller_slots ${touched}`,
    `INSERT INTO caller_slots ${callerSlots(touched)}`,
    `DELETE FROM disposition_slots ${touched}`,
    `INSERT INTO disposition_slots ${dispositionSlots(touched)}`,
  ];
}

/** Rebuilds the whole roll-up when its definition changed (or on a store that predates it). */
export function rebuildRollups(): string[] {
  return [
    `DELETE FROM call_slots`,
    // Ordered by account and time, so a report's window skips the other row groups.
    `INSERT INTO call_slots SELECT * FROM (${callSlots('')}) ORDER BY account_id, slot15`,
    `DELETE FROM lead_activity`,
    `INSERT INTO lead_activity SELECT * FROM (${leadActivity(null)}) ORDER BY account_id, created_at`,
    `DELETE FROM lead_slots`,
    `INSERT INTO lead_slots SELECT * FROM (${leadSlots('')}) ORDER BY account_id, slot15`,
    `DELETE FROM call_groups`,
    `INSERT INTO call_groups SELECT * FROM (${callGroups('')}) ORDER BY account_id, slot15`,
    `DELETE FROM caller_slots`,
    `INSERT INTO caller_slots SELECT * FROM (${callerSlots('')}) ORDER BY account_id, slot15`,
    `DELETE FROM disposition_slots`,
    `INSERT INTO disposition_slots SELECT * FROM (${dispositionSlots('')}) ORDER BY account_id, slot15`,
    `DELETE FROM ledger_slots`,
    `INSERT INTO ledger_slots SELECT * FROM (${ledgerSlots('')}) ORDER BY account_id, slot15`,
    `DELETE FROM billing_issues`,
    `INSERT INTO billing_issues SELECT * FROM (${billingIssues(false)}) ORDER BY account_id, "at"`,
    // Not a roll-up but derived the same way, and left by a first load for this pass (src/sync/load-sql.ts).
    `UPDATE calls SET lead_source = l.source FROM leads l WHERE l.id = calls.lead_id AND calls.lead_source IS DISTINCT FROM l.source`,
    `INSERT OR REPLACE INTO store_meta (key, value) VALUES ('rollups_version', '${ROLLUPS_VERSION}')`,
  ];
}
