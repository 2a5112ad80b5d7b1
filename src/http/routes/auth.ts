import type { FastifyInstance } from 'fastify';
import type { MetaDb } from '../../meta/db.ts';
import type { Tokens } from '../../auth/tokens.ts';
import { checkPassword } from '../../auth/users.ts';

/** Login and refresh, answering in the platform's own envelope. */
export async function authRoutes(app: FastifyInstance, opts: { meta: MetaDb; tokens: Tokens }): Promise<void> {
  const fail = (status: number, message: string, errors: string[]) => ({ status, success: false, message, errors, data: {} });

  app.post('/api/accounts/login/', {
    schema: { body: { type: 'object', properties: { email: { type: 'string' }, password: { type: 'string' } } } },
    attachValidation: true,
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

  app.post('/api/accounts/token/refresh/', async (req, reply) => {
    const body = (req.body ?? {}) as { refresh?: unknown };
    if (typeof body.refresh !== 'string' || body.refresh === '') {
      return reply.code(400).send({ refresh: ['This field is required.'] });
    }
    const userId = await opts.tokens.verify(body.refresh, 'refresh');
    if (userId === null) return reply.code(401).send({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    return { access: await opts.tokens.issueAccess(userId) };
  });

  // Logout: the refresh token stops working at once (access tokens end with their day).
  app.post('/api/accounts/logout/', async (req, reply) => {
    const body = (req.body ?? {}) as { refresh?: unknown };
    if (typeof body.refresh !== 'string' || body.refresh === '') return reply.code(400).send({ refresh: ['This field is required.'] });
    if (!(await opts.tokens.revoke(body.refresh))) return reply.code(401).send({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
    return { status: 200, success: true, message: 'Successfully logged out', errors: [], data: {} };
  });
}
