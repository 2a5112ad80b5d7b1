import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import { ACCESS_TTL_SEC, type Tokens } from '../auth/tokens.ts';
import { principalOf } from '../auth/users.ts';
import type { MetaDb } from '../meta/db.ts';

/**
 * A console session is an access token of the signed-in user kept in an HttpOnly cookie
 * (SameSite=Lax; Secure over HTTPS). It is checked exactly as a Bearer token is: a user
 * disabled or removed is signed out at the next page. The API itself never reads it.
 */
export const SESSION_COOKIE = 'callboard_session';

export const sessionCookie = (req: FastifyRequest) => ({
  path: '/', httpOnly: true, sameSite: 'lax' as const, secure: req.protocol === 'https', maxAge: ACCESS_TTL_SEC,
});

export async function startSession(reply: FastifyReply, tokens: Tokens, userId: number): Promise<void> {
  reply.setCookie(SESSION_COOKIE, await tokens.issueAccess(userId), sessionCookie(reply.request));
}

export function endSession(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** The user of a request's session cookie, or null. */
export async function sessionUser(req: FastifyRequest, tokens: Tokens, meta: MetaDb): Promise<Principal | null> {
  const token = req.cookies[SESSION_COOKIE];
  if (!token) return null;
  const userId = await tokens.verify(token, 'access');
  return userId === null ? null : principalOf(meta, userId);
}
