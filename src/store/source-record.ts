import type { SourceIdentity } from '../source/identity.ts';
import type { Store } from './duckdb.ts';
import { BUMP_DATA_VERSION } from './data-as-of.ts';

/**
 * The store's record of the source it was built from (store_meta `source_url` and
 * `source_fingerprint`), and the reset that empties it for another source.
 */

/** The source the store was built from, or null for a store that has loaded none yet. */
export async function storedSource(store: Store): Promise<SourceIdentity | null> {
  const rows = await store.writeAll(`SELECT key, value FROM store_meta WHERE key IN ('source_url', 'source_fingerprint')`);
  const value = (key: string) => rows.find((r) => r.key === key)?.value as string | undefined;
  const url = value('source_url');
  return url === undefined ? null : { url, fingerprint: value('source_fingerprint') ?? null };
}

/** Records the source the store is built from (its fingerprint once the source has one). */
export async function recordSource(store: Store, source: SourceIdentity): Promise<void> {
  await store.exec(`INSERT OR REPLACE INTO store_meta VALUES ('source_url', $url)`, { url: source.url });
  if (source.fingerprint !== null) await store.exec(`INSERT OR REPLACE INTO store_meta VALUES ('source_fingerprint', $fp)`, { fp: source.fingerprint });
}

/**
 * Empties every table of synced data (facts, dimensions, roll-ups, watermarks, rejects,
 * imports, snapshots) and forgets the source, in one transaction: the next sync is a
 * first load from whatever source is configured. The data version moves on, so nothing
 * computed before is taken for current.
 */
export async function emptyStore(store: Store): Promise<void> {
  const tables = await store.writeAll(`SELECT table_name FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary AND table_name NOT IN ('schema_migrations', 'store_meta')`);
  const statements = [
    ...tables.map((t) => `DELETE FROM "${String(t.table_name).replace(/"/g, '""')}"`),
    `DELETE FROM store_meta WHERE key IN ('source_url', 'source_fingerprint', 'data_as_of')`,
    `INSERT OR REPLACE INTO store_meta VALUES ('rollups_version', 'pending')`,
    BUMP_DATA_VERSION,
  ];
  await store.transaction(statements);
}
