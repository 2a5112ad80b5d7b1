import type { Store } from './duckdb.ts';

/**
 * When the data was current (X-Data-As-Of): the start of the last sync that finished, as
 * ISO 8601, or null before any has. Every source change committed before it is in the store.
 */
export async function dataAsOf(store: Store): Promise<string | null> {
  const [row] = await store.all(`SELECT value FROM store_meta WHERE key = 'data_as_of'`);
  return row ? String(row.value) : null;
}

/**
 * The freshness and the version of the data in one read: `version` moves on with every
 * change the store commits (a sync batch, a CDR file), so an answer computed at one
 * version is current exactly while the version stays.
 */
export async function dataState(store: Store): Promise<{ asOf: string | null; version: string | null }> {
  const rows = await store.memo('data-state', () => store.all(`SELECT key, value FROM store_meta WHERE key IN ('data_as_of', 'data_version')`));
  const get = (key: string) => {
    const row = rows.find((r) => r.key === key);
    return row ? String(row.value) : null;
  };
  return { asOf: get('data_as_of'), version: get('data_version') };
}

/** Moves the store's data version on: every answer computed before is no longer current. */
export const BUMP_DATA_VERSION = `UPDATE store_meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'`;

/** Records that a sync started at `started` (epoch ms) has finished. */
export async function markDataAsOf(store: Store, started: number): Promise<void> {
  await store.exec(`INSERT OR REPLACE INTO store_meta VALUES ('data_as_of', $at)`, { at: new Date(started).toISOString() });
}
