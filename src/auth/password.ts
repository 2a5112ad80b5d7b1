import crypto from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { Gate } from '../gate.ts';

/**
 * Password hashes: scrypt from node:crypto, which runs on libuv's thread pool, never on the
 * event loop that serves the reports. Hashes of the earlier bcrypt format still verify
 * and are replaced by scrypt ones at the next successful login.
 *
 * Stored as `scrypt$N$r$p$salt$hash` (salt and hash in base64url), so the cost can rise
 * later with old hashes still readable.
 */

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;
const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** A password is at most this many UTF-8 bytes: hashing a megabyte per request would be a way to wear the service down. */
export const MAX_PASSWORD_BYTES = 1024;
/** bcrypt reads only the first 72 bytes: a longer password is never checked against a bcrypt hash, so it is never cut. */
const BCRYPT_MAX_BYTES = 72;

/**
 * At most two hashes at once: the thread pool also runs DuckDB's queries, which a flood
 * of logins must not starve. The rest wait their turn.
 */
const hashing = new Gate(2);

/** What is wrong with a new password, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < 8) return 'the password must have at least 8 characters';
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `the password may have at most ${MAX_PASSWORD_BYTES} bytes`;
  return null;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await hashing.run(() => scrypt(password, salt, KEY_BYTES, { ...COST, maxmem: 64 * 1024 * 1024 }));
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether `password` matches `stored`, and whether the hash is of an older kind to replace. */
export async function verifyPassword(password: string, stored: string): Promise<{ ok: boolean; upgrade: boolean }> {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return { ok: false, upgrade: false };
  const parts = stored.split('$');
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt, hash] = parts;
    const expected = Buffer.from(hash, 'base64url');
    const key = await hashing.run(() => scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 }));
    return { ok: crypto.timingSafeEqual(key, expected), upgrade: false };
  }
  if (/^\$2[aby]\$/.test(stored)) {
    if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) return { ok: false, upgrade: false };
    return { ok: await bcrypt.compare(password, stored), upgrade: true };
  }
  return { ok: false, upgrade: false };
}
