import type { Principal } from '../auth/principal.ts';
import { NotFoundError } from '../errors.ts';
import type { Store } from '../store/duckdb.ts';
import type { ReportParams } from './params.ts';

/**
 * The accounts a principal may see, narrowed by `account_id` when given. An account
 * outside the principal's reach is a 404, the same as one that does not exist.
 */
export async function resolveScope(store: Store, who: Principal, accountId: number | null, noun = 'account'): Promise<number[]> {
  let ids: number[];
  // The account lists change only with a sync: kept until the store's next write.
  if (who.role === 'admin') ids = (await store.memo('accounts', () => store.all(`SELECT id FROM accounts ORDER BY id`))).map((r) => Number(r.id));
  else if (who.role === 'partner') {
    const p = who.partnerId ?? -1;
    ids = (await store.memo(`accounts:partner:${p}`, () => store.all(`SELECT id FROM accounts WHERE partner_id = $p ORDER BY id`, { p }))).map((r) => Number(r.id));
  } else ids = who.accountId === null ? [] : [who.accountId];
  if (accountId === null) return ids;
  // Admin ids come from the accounts table, so membership is existence for every role.
  if (!ids.includes(accountId)) {
    throw new NotFoundError(`No ${noun} ${accountId} in your scope.`);
  }
  return [accountId];
}

/** The ids among `ids` that exist in `table` within the accounts (and are not soft-deleted). */
async function found(store: Store, table: string, ids: number[], accounts: number[], checkDeleted: boolean): Promise<Set<number>> {
  const deleted = checkDeleted ? 'AND deleted_at IS NULL' : '';
  const rows = await store.memo(`found:${table}:${ids.join(',')}:${accounts.join(',')}:${checkDeleted}`, () => store.all(
    `SELECT id FROM ${table} WHERE list_contains($ids, id) AND account_id IN (SELECT unnest($accounts)) ${deleted}`,
    { ids, accounts },
  ));
  return new Set(rows.map((r) => Number(r.id)));
}

/** Checks every id filter against the scope: soft-deleted things are not filters either. */
export async function checkFilters(store: Store, p: ReportParams, accounts: number[]): Promise<void> {
  if (p.campaign_id !== null && !(await found(store, 'campaigns', [p.campaign_id], accounts, true)).has(p.campaign_id)) {
    throw new NotFoundError(`No campaign ${p.campaign_id} in your scope.`);
  }
  if (p.team_id !== null && !(await found(store, 'teams', [p.team_id], accounts, false)).has(p.team_id)) {
    throw new NotFoundError(`No team ${p.team_id} in your scope.`);
  }
  if (p.agent_ids && p.agent_ids.length > 0) {
    // One query for the whole list rather than one per agent.
    const agents = await found(store, 'agents', p.agent_ids, accounts, true);
    const missing = p.agent_ids.find((id) => !agents.has(id));
    if (missing !== undefined) throw new NotFoundError(`No agent ${missing} in your scope.`);
  }
}
