import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { MetaDb } from '../../meta/db.ts';
import type { Tokens } from '../../auth/tokens.ts';
import { checkPassword } from '../../auth/users.ts';
import { arr, bool, int, obj, str, type Schema } from '../../reports/schema.ts';
import { json } from '../route-schema.ts';

const AUTH = { tags: ['auth'], security: [] };
const envelope = (data: Schema) => obj({ status: int(), success: bool, message: { type: ['string', 'null'] }, errors: arr(str()), data });
const refreshBody = { type: 'object', properties: { refresh: str() }, required: ['refresh'] };
const missingRefresh = { description: 'missing refresh', content: json({ type: 'object', additionalProperties: arr(str()) }) };
const badToken = (description: string) => ({ description, content: json(obj({ detail: str(), code: str() })) });

/** How many logins are let through before 429: per client address a minute, per account a quarter hour. */
export interface LoginLimits {
  perClientPerMinute: number;
  perAccountPerQuarterHour: number;
}

const REFUSAL_DELAY_MS = 1_000;

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perClientPerMinute: 20, perAccountPerQuarterHour: 10 };

/** The two checks a login passes before its password is hashed (see loginGuards). */
export interface LoginGuards {
  /** onRequest: logins from one client address. */
  perClient: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** preHandler (the body is parsed): logins for one email, known or not. */
  perAccount: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * Login rate limits per client address and per account (429 with Retry-After), where each
 * attempt past a limit doubles the wait: guessing passwords, or wearing the service down
 * with hashing, gets slower the more it is tried. The API's login and the console's
 * sign-in share these counters, so neither door adds tries to the other.
 */
export async function loginGuards(app: FastifyInstance, limits: LoginLimits = DEFAULT_LOGIN_LIMITS): Promise<LoginGuards> {
  // One store for both limits (keys apart); each try past a limit doubles its wait.
  await app.register(rateLimit, { global: false, exponentialBackoff: true });
  const limit = (what: string, max: number, timeWindow: number, key: (req: FastifyRequest) => string) => {
    const check = app.createRateLimit({ max, timeWindow, keyGenerator: key });
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const r = await check(req);
      if (r.isAllowed || !r.isExceeded) return;
      // The refusal itself comes after a second: a client that hammers gets one answer a
      // second per connection, so refusing costs the service next to nothing.
      await new Promise((resolve) => setTimeout(resolve, REFUSAL_DELAY_MS));
      reply.header('retry-after', String(r.ttlInSeconds));
      throw Object.assign(new Error(`Too many login attempts ${what}: retry in ${r.ttlInSeconds} s.`), { statusCode: 429 });
    };
  };
  return {
    perClient: limit('from this address', limits.perClientPerMinute, 60_000, (req) => `login-client:${req.ip}`),
    perAccount: limit('for this account', limits.perAccountPerQuarterHour, 15 * 60_000, (req) => {
      const email = (req.body as { email?: unknown } | undefined)?.email;
      return `login-account:${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
    }),
  };
}

/** Login, refresh and logout, answering in the platform's own envelope; logins pass the guards. */
export async function authRoutes(app: FastifyInstance, opts: { meta: MetaDb; tokens: Tokens; guards: LoginGuards }): Promise<void> {
  const { perClient, perAccount } = opts.guards;
  const fail = (status: number, message: string, errors: string[]) => ({ status, success: false, message, errors, data: {} });

  app.post('/api/accounts/login/', {
    onRequest: perClient,
    preHandler: perAccount,
    schema: {
      ...AUTH, summary: 'Log in (access token valid 1 day)', operationId: 'auth_login',
      body: { type: 'object', properties: { email: str(), password: str() }, required: ['email', 'password'] },
      response: {
        200: { description: 'tokens', content: json(envelope(obj({ token: obj({ refresh: str(), access: str() }), user_data: obj({ first_name: str(), last_name: str(), email: str() }) }))) },
        400: { description: 'missing fields', content: json(envelope({ type: 'object' })) },
        401: { description: 'wrong email or password', content: json(envelope({ type: 'object' })) },
        429: { description: 'too many attempts from this address or for this account: see Retry-After', content: json(obj({ message: str() })) },
      },
    },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
    const errors: string[] = [];
    if (typeof body.email !== 'string' || body.email === '') errors.push('email: This field is required.');
    if (typeof body.password !== 'string' || body.password === '') errors.push('password: This field is required.');
    if (errors.length) return reply.code(400).send(fail(400, 'Email and password are required.', errors));
    const user = await checkPassword(opts.meta, body.email as string, body.password as string);
    if (!user) return reply.code(401).send(fail(401, 'Invalid email or password.', ['Invalid email or password.']));
    const token = await opts.tokens.issuePair(user.id);
    return {
      status: 200, success: true, message: 'Successfully logged in', errors: [],
      data: { token: { refresh: token.refresh, access: token.access }, user_data: { first_name: user.first_name, last_name: user.last_name, email: user.email } },
    };
  });

  app.post('/api/accounts/token/refresh/', {
    schema: {
      ...AUTH, summary: 'A new access token from a refresh token', operationId: 'auth_refresh', body: refreshBody,
      response: { 200: { description: 'a new access token', content: json(obj({ access: str() })) }, 400: missingRefresh, 401: badToken('invalid or expired') },
    },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { refresh?: unknown };
    if (typeof body.refresh !== 'string' || body.refresh === '') {
      return reply.code(400).send({ refresh: ['This field is required.'] });
    }
    const userId = await opts.tokens.verify(body.refresh, 'refresh');
    if (userId === null) return reply.code(401).send({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    return { access: await opts.tokens.issueAccess(userId) };
  });

  // Logout: the refresh token stops working at once (access tokens end with their day).
  app.post('/api/accounts/logout/', {
    schema: {
      ...AUTH, summary: 'Log out: the refresh token stops working at once', operationId: 'auth_logout', body: refreshBody,
      response: { 200: { description: 'logged out', content: json(envelope({ type: 'object' })) }, 400: missingRefresh, 401: badToken('invalid, expired or already revoked') },
    },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as { refresh?: unknown };
    if (typeof body.refresh !== 'string' || body.refresh === '') return reply.code(400).send({ refresh: ['This field is required.'] });
    if (!(await opts.tokens.revoke(body.refresh))) return reply.code(401).send({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    return { status: 200, success: true, message: 'Successfully logged out', errors: [], data: {} };
  });
}
