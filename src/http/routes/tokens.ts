import type { FastifyInstance } from 'fastify';
import { addApiToken, DEFAULT_TOKEN_LIFETIME, LIFETIME_RULE, listApiTokens, parseLifetime, revokeApiToken } from '../../auth/api-tokens.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import type { MetaDb } from '../../meta/db.ts';
import { arr, obj, str } from '../../reports/schema.ts';
import { ERROR, FORBIDDEN, INVALID, json, SECURITY, UNAUTHORIZED } from '../route-schema.ts';

const TOKENS = { tags: ['tokens'], security: SECURITY.bearer };
const nullableStr = { type: ['string', 'null'] };
const TOKEN_ROW = obj({ id: str(), name: str(), created_at: str(), expires_at: nullableStr, last_used_at: nullableStr, revoked_at: nullableStr });

/**
 * A user's own API tokens: list, create (the token is in this answer only) and revoke.
 * Managing tokens takes a signed-in session: an API token cannot mint or revoke tokens,
 * so a leaked one cannot make itself permanent.
 */
export async function tokenRoutes(app: FastifyInstance, opts: { meta: MetaDb }): Promise<void> {
  const session = (viaApiToken: boolean) => {
    if (viaApiToken) throw new ForbiddenError('API tokens are managed from a signed-in session (a login\'s access token or the console), not with an API token.');
  };
  app.get('/api/tokens', {
    schema: {
      ...TOKENS, summary: 'Your API tokens, newest first (never the tokens themselves)', operationId: 'tokens_list',
      response: { 200: { description: 'tokens', content: json(obj({ data: arr(TOKEN_ROW) })) }, 401: UNAUTHORIZED },
    },
  }, async (req) => {
    const rows = await listApiTokens(opts.meta, req.principal!.userId);
    return { data: rows.map(({ user_id: _u, ...r }) => r) };
  });

  app.post('/api/tokens', {
    schema: {
      ...TOKENS, summary: 'Create an API token: the token is shown in this answer only', operationId: 'tokens_create',
      body: { ...obj({ name: str({ description: 'what the token is for (1 to 100 characters)' }), expires_in: str({ description: `lifetime: 90 or 90d, 12h, or "never" (${DEFAULT_TOKEN_LIFETIME} by default)` }) }), required: ['name'] },
      response: {
        201: { description: 'the new token', content: json(obj({ id: str(), name: str(), token: str(), expires_at: nullableStr })) },
        401: UNAUTHORIZED, 403: FORBIDDEN, 422: INVALID,
      },
    },
  }, async (req, reply) => {
    session(req.viaApiToken);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (name.length < 1 || name.length > 100) errors.name = ['The name is required: 1 to 100 characters.'];
    const lifetime = body.expires_in === undefined ? parseLifetime(DEFAULT_TOKEN_LIFETIME) : typeof body.expires_in === 'string' ? parseLifetime(body.expires_in) : undefined;
    if (lifetime === undefined) errors.expires_in = [`The expires_in ${LIFETIME_RULE}.`];
    for (const key of Object.keys(body)) if (key !== 'name' && key !== 'expires_in') errors[key] = [`The ${key} field is not accepted here.`];
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const t = await addApiToken(opts.meta, req.principal!.userId, name, lifetime!);
    return reply.code(201).send({ id: t.id, name, token: t.token, expires_at: t.expiresAt });
  });

  app.delete('/api/tokens/:id', {
    schema: {
      ...TOKENS, summary: 'Revoke one of your API tokens: it stops working at once', operationId: 'tokens_revoke',
      params: obj({ id: str() }),
      response: { 204: { description: 'revoked' }, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: { description: 'no live token of yours with that id', content: json(ERROR) } },
    },
  }, async (req, reply) => {
    session(req.viaApiToken);
    const { id } = req.params as { id: string };
    if (!(await revokeApiToken(opts.meta, id, req.principal!.userId))) throw new NotFoundError(`No live API token ${id} of yours.`);
    return reply.code(204).send();
  });
}
