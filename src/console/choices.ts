import type { Principal } from '../auth/principal.ts';
import { resolveScope } from '../reports/scope.ts';
import type { Store } from '../store/duckdb.ts';

/**
 * What the console's pickers offer: the accounts, campaigns, agents and teams a user may
 * filter by, read within the user's scope (the same scope the reports apply). These are
 * names for the pickers, never figures; the store keeps them until its next write.
 */
export interface Choice { id: number; name: string }
export interface AccountChoice extends Choice { timezone: string }

export async function accountChoices(store: Store, who: Principal): Promise<AccountChoice[]> {
  const ids = await resolveScope(store, who, null);
  const rows = await store.memo(`console:accounts:${ids.join(',')}`, () =>
    store.all(`SELECT id, name, timezone FROM accounts WHERE list_contains($ids, id) ORDER BY name, id`, { ids }));
  return rows.map((r) => ({ id: Number(r.id), name: String(r.name), timezone: String(r.timezone) }));
}

export interface FilterChoices { campaigns: (Choice & { type: string })[]; agents: Choice[]; teams: Choice[] }

/** Campaigns, agents and teams of the accounts (not soft-deleted), by name. */
export async function filterChoices(store: Store, accounts: readonly number[]): Promise<FilterChoices> {
  const ids = [...accounts];
  const key = ids.join(',');
  const [campaigns, agents, teams] = await Promise.all([
    store.memo(`console:campaigns:${key}`, () => store.all(`SELECT id, name, type FROM campaigns WHERE list_contains($ids, account_id) AND deleted_at IS NULL ORDER BY name, id`, { ids })),
    store.memo(`console:agents:${key}`, () => store.all(`SELECT id, name FROM agents WHERE list_contains($ids, account_id) AND deleted_at IS NULL ORDER BY name, id`, { ids })),
    store.memo(`console:teams:${key}`, () => store.all(`SELECT id, name FROM teams WHERE list_contains($ids, account_id) ORDER BY name, id`, { ids })),
  ]);
  const choice = (r: Record<string, unknown>) => ({ id: Number(r.id), name: String(r.name) });
  return { campaigns: campaigns.map((r) => ({ ...choice(r), type: String(r.type) })), agents: agents.map(choice), teams: teams.map(choice) };
}
