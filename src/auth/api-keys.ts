import crypto from 'node:crypto';
import type { MetaDb } from '../meta/db.ts';
import type { Principal } from './principal.ts';

/**
 * Partner API credentials (X-Auth-ID / X-Auth-Token). The token is 32 random bytes: a
 * secret of that entropy needs no slow password hash, so it is kept as its SHA-256 and
 * compared in constant time. A password hash per request would cost ~50 ms of CPU.
 */
export function digest(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

export interface NewKey {
  authId: string;
  token: string;
}

export async function addKey(meta: MetaDb, partnerId: number, now = new Date()): Promise<NewKey> {
  if (!Number.isSafeInteger(partnerId) || partnerId < 1) throw new Error('--partner-id must be a positive whole number');
  const authId = `PA${crypto.randomBytes(9).toString('hex').toUpperCase()}`;
  const token = crypto.randomBytes(32).toString('base64url');
  await meta.insertInto('api_keys').values({
    auth_id: authId, partner_id: partnerId, token_hash: digest(token).toString('hex'), created_at: now.toISOString(), revoked_at: null,
  }).execute();
  return { authId, token };
}

/** Revokes a key; false when no live key has that id. */
export async function revokeKey(meta: MetaDb, authId: string, now = new Date()): Promise<boolean> {
  const res = await meta.updateTable('api_keys').set({ revoked_at: now.toISOString() })
    .where('auth_id', '=', authId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function listKeys(meta: MetaDb) {
  return meta.selectFrom('api_keys').select(['auth_id', 'partner_id', 'created_at', 'revoked_at']).orderBy('created_at').execute();
}

// Compared against when the id is unknown, so "no such id" and "wrong token" take the same work.
const NO_KEY = digest('callboard-no-such-key');

/** The partner a pair of headers authenticates, or null (unknown id, revoked key or wrong token alike). */
export async function partnerOf(meta: MetaDb, authId: string | undefined, token: string | undefined): Promise<Principal | null> {
  if (typeof authId !== 'string' || typeof token !== 'string' || authId.length > 64 || token.length > 256) return null;
  const row = await meta.selectFrom('api_keys').selectAll().where('auth_id', '=', authId).executeTakeFirst();
  const stored = row && row.revoked_at === null ? Buffer.from(row.token_hash, 'hex') : NO_KEY;
  const same = crypto.timingSafeEqual(stored, digest(token));
  if (!same || !row || row.revoked_at !== null) return null;
  return { userId: 0, email: `partner-key:${row.auth_id}`, role: 'partner', accountId: null, partnerId: row.partner_id };
}
