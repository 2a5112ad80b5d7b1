import crypto from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { MetaDb } from '../meta/db.ts';

export const ACCESS_TTL_SEC = 24 * 3600;
export const REFRESH_TTL_SEC = 7 * 24 * 3600;

export type TokenType = 'access' | 'refresh';

/**
 * Access and refresh tokens as HS256 JWTs with the claims the platform's clients read
 * (token_type, exp, iat, jti, user_id). Refresh tokens are recorded so they can be revoked.
 */
export class Tokens {
  private readonly key: Uint8Array;
  /** The secret imported once for WebCrypto: jose would import a raw key on every verification. */
  private readonly cryptoKey: Promise<CryptoKey>;
  /**
   * Tokens whose signature and claims jose has verified, with their payload: a dashboard
   * refreshed again and again presents the same token. A token is never changed by its
   * holder without breaking its signature, so only its expiry is checked again on reuse
   * (as jose checks it: expired from `exp` itself); the refresh-token row and the user
   * are read on every use, so revocation and disabling still take effect at once.
   */
  private readonly verified = new LRUCache<string, JWTPayload>({ max: 10_000 });

  constructor(secret: string, private readonly meta: MetaDb, private readonly now: () => Date = () => new Date()) {
    this.key = new TextEncoder().encode(secret);
    this.cryptoKey = crypto.webcrypto.subtle.importKey('raw', this.key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) as Promise<CryptoKey>;
  }

  /** The payload of a token with a valid HS256 signature, `exp`, `iat` and `jti`, not expired; else throws. */
  private async payloadOf(token: string): Promise<JWTPayload> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (typeof known.exp === 'number' && known.exp > Math.floor(this.now().getTime() / 1000)) return known;
      this.verified.delete(token);
    }
    const { payload } = await jwtVerify(token, await this.cryptoKey, { algorithms: ['HS256'], currentDate: this.now(), requiredClaims: ['exp', 'iat', 'jti'] });
    this.verified.set(token, payload);
    return payload;
  }

  private async sign(type: TokenType, userId: number, ttl: number): Promise<{ token: string; jti: string; exp: number }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const jti = crypto.randomBytes(16).toString('hex');
    const exp = iat + ttl;
    const token = await new SignJWT({ token_type: type, user_id: userId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(iat).setExpirationTime(exp).setJti(jti)
      .sign(this.key);
    return { token, jti, exp };
  }

  async issuePair(userId: number): Promise<{ access: string; refresh: string }> {
    const refresh = await this.sign('refresh', userId, REFRESH_TTL_SEC);
    await this.meta.insertInto('refresh_tokens')
      .values({ jti: refresh.jti, user_id: userId, expires_at: new Date(refresh.exp * 1000).toISOString(), revoked_at: null })
      .execute();
    const access = await this.sign('access', userId, ACCESS_TTL_SEC);
    return { access: access.token, refresh: refresh.token };
  }

  async issueAccess(userId: number): Promise<string> {
    return (await this.sign('access', userId, ACCESS_TTL_SEC)).token;
  }

  /**
   * The user id of a valid token of the given type, or null: a bad signature, no expiry
   * (a token without `exp` would never end), expired, the wrong type; for a refresh token
   * also one revoked, unknown, or recorded for another user than it names.
   */
  async verify(token: string, type: TokenType): Promise<number | null> {
    return (await this.claims(token, type))?.userId ?? null;
  }

  private async claims(token: string, type: TokenType): Promise<{ userId: number; jti: string } | null> {
    try {
      const payload = await this.payloadOf(token);
      if (payload.token_type !== type || typeof payload.user_id !== 'number' || typeof payload.jti !== 'string') return null;
      if (type === 'refresh') {
        const row = await this.meta.selectFrom('refresh_tokens').select(['revoked_at', 'user_id']).where('jti', '=', payload.jti).executeTakeFirst();
        if (!row || row.revoked_at !== null || row.user_id !== payload.user_id) return null;
      }
      return { userId: payload.user_id, jti: payload.jti };
    } catch {
      return null;
    }
  }

  /** Revokes a valid refresh token (logout); false when it was not one. */
  async revoke(refresh: string): Promise<boolean> {
    const c = await this.claims(refresh, 'refresh');
    if (!c) return false;
    await this.meta.updateTable('refresh_tokens').set({ revoked_at: this.now().toISOString() }).where('jti', '=', c.jti).execute();
    return true;
  }
}
