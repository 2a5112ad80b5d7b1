import crypto from 'node:crypto';
import type { MetaDb } from '../meta/db.ts';
import { digest } from './api-keys.ts';

/**
 * Personal and service API tokens: long-lived Bearer credentials for BI tools and scripts,
 * acting as one user with exactly that user's scope. A token is `cbt_` and 32 random bytes;
 * only its SHA-256 is stored (a secret of that entropy needs no slow hash, and the digest
 * is the lookup key). Disabling or removing the user stops its tokens at once.
 */
export const TOKEN_PREFIX = 'cbt_';

/** A token's last use is written at most this often (ms), so reports do not write meta.db on every request. */
const LAST_USE_EVERY_MS = 60_000;

export interface NewApiToken {
  id: string;
  token: string;
  expiresAt: string | null;
}

export interface ApiTokenRow {
  id: string;
  user_id: number;
  name: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The stored form of a token: the partner keys' SHA-256, hex. */
const hashOf = (token: string): string => digest(token).toString('hex');

/** Whether a Bearer credential is an API token rather than a session's JWT. */
export function isApiToken(credential: string): boolean {
  return credential.startsWith(TOKEN_PREFIX);
}

/**
 * The lifetime `--expires-in` (or `expires_in`) names: `30d`, `12h`, a bare number of days,
 * or `never` (a service token). Null for never; undefined when the text is not one of these.
 */
export function parseLifetime(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'never') return null;
  const m = /^(\d{1,5})\s*([dh]?)$/.exec(t);
  if (!m || Number(m[1]) === 0) return undefined;
  const n = Number(m[1]);
  const ms = m[2] === 'h' ? n * 3_600_000 : n * 86_400_000;
  return ms > 3650 * 86_400_000 ? undefined : ms;
}

/** Tokens last this long unless told otherwise. */
export const DEFAULT_TOKEN_LIFETIME = '90d';

export const LIFETIME_RULE = 'must be a number of days (90 or 90d), of hours (12h), or "never", at most 3650 days';

/** Creates a token for a user; the token itself is returned this once. */
export async function addApiToken(meta: MetaDb, userId: number, name: string, lifetimeMs: number | null, now = new Date()): Promise<NewApiToken> {
  const id = `tok_${crypto.randomBytes(6).toString('hex')}`;
  const token = `${TOKEN_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  const expiresAt = lifetimeMs === null ? null : new Date(now.getTime() + lifetimeMs).toISOString();
  await meta.insertInto('api_tokens').values({
    id, user_id: userId, name, token_hash: hashOf(token), created_at: now.toISOString(), expires_at: expiresAt, last_used_at: null, revoked_at: null,
  }).execute();
  return { id, token, expiresAt };
}

/** Tokens, newest first: a user's own, or every user's (userId null). Never a hash. */
export async function listApiTokens(meta: MetaDb, userId: number | null): Promise<ApiTokenRow[]> {
  let q = meta.selectFrom('api_tokens').select(['id', 'user_id', 'name', 'created_at', 'expires_at', 'last_used_at', 'revoked_at']);
  if (userId !== null) q = q.where('user_id', '=', userId);
  return q.orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Revokes a live token (of that user, unless userId is null); false when there is none. */
export async function revokeApiToken(meta: MetaDb, id: string, userId: number | null, now = new Date()): Promise<boolean> {
  let q = meta.updateTable('api_tokens').set({ revoked_at: now.toISOString() }).where('id', '=', id).where('revoked_at', 'is', null);
  if (userId !== null) q = q.where('user_id', '=', userId);
  return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
}

/** The user id a live token acts for, or null (unknown, revoked or expired); notes its use. */
export async function apiTokenUser(meta: MetaDb, token: string, now = new Date()): Promise<number | null> {
  if (token.length > 128) return null;
  const row = await meta.selectFrom('api_tokens').select(['id', 'user_id', 'expires_at', 'last_used_at', 'revoked_at'])
    .where('token_hash', '=', hashOf(token)).executeTakeFirst();
  if (!row || row.revoked_at !== null) return null;
  if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) return null;
  if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= LAST_USE_EVERY_MS) {
    await meta.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
  }
  return row.user_id;
}
