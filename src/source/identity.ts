import crypto from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import { connectSource, parseSourceUrl, type SourceConnection, type SourceTimeouts } from './connect.ts';
import { parsePlatformUrl } from './platform-url.ts';

/**
 * Which source a store was built from: the source's URL without credentials, and a
 * fingerprint read from the source itself (its first account: id, auth_id and creation
 * time), so a store is never fed from a second database that merges into the first. The
 * fingerprint is null while the source has no account yet.
 */
export interface SourceIdentity {
  url: string;
  fingerprint: string | null;
}

/**
 * A source URL as it can be shown and compared: no user or password, and an SQLite path
 * made absolute (`sqlite:./data/x.db` and `sqlite:data/x.db` are one file).
 */
export function redactSourceUrl(url: string): string {
  if (url.startsWith('platform+')) {
    const p = parsePlatformUrl(url);
    return `platform+${p.baseUrl}/?account_id=${p.accountId}`;
  }
  const { dialect, target } = parseSourceUrl(url);
  if (dialect === 'sqlite') return `sqlite:${path.resolve(target)}`;
  const u = new URL(target);
  u.username = '';
  u.password = '';
  return u.toString();
}

const digest = (value: unknown) => crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/**
 * The identity of the source a URL names, read from it (a platform's API is named by its
 * host and account), through `open` when the caller holds a connection to it already.
 */
export async function readSourceIdentity(url: string, open?: SourceConnection, timeouts?: SourceTimeouts): Promise<SourceIdentity> {
  const redacted = redactSourceUrl(url);
  if (url.startsWith('platform+')) return { url: redacted, fingerprint: digest(redacted) };
  const source = open ?? connectSource(url, { timeouts });
  try {
    const first = await sql<{ id: unknown; auth_id: unknown; created_at: unknown }>`SELECT id, auth_id, created_at FROM accounts ORDER BY id LIMIT 1`.execute(source.db);
    const row = first.rows[0];
    // PostgreSQL gives times as Date, SQLite as text: the instant is what identifies.
    const created = row ? new Date(row.created_at instanceof Date ? row.created_at : String(row.created_at)).getTime() : null;
    return { url: redacted, fingerprint: row ? digest([String(row.id), String(row.auth_id), created]) : null };
  } finally {
    if (!open) await source.close();
  }
}

/** A store fed from a different source than the one it was built from: start-up and sync stop with exit 2. */
export class SourceMismatchError extends Error {}

/**
 * Null when `configured` is the source `stored` was built from (or the store was built
 * from none yet), else the message that names both and the ways out. The fingerprints
 * decide when both are known (a database moved to another host is the same source);
 * otherwise the URLs.
 */
export function sourceMismatch(stored: SourceIdentity | null, configured: SourceIdentity, storeFile: string): string | null {
  if (!stored) return null;
  const same = stored.fingerprint !== null && configured.fingerprint !== null ? stored.fingerprint === configured.fingerprint : stored.url === configured.url;
  if (same) return null;
  const show = (s: SourceIdentity) => `${s.url}${s.fingerprint ? ` (fingerprint ${s.fingerprint})` : ''}`;
  return [
    `The store ${storeFile} was built from ${show(stored)},`,
    `but the configured source is ${show(configured)}.`,
    'Loading it would merge two databases. Either point CALLBOARD_SOURCE back at the first source,',
    'use another CALLBOARD_DATA_DIR for the new one, or rebuild this store from the configured source with `callboard reset --yes`.',
  ].join('\n');
}
