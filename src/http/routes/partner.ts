import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { partnerOf } from '../../auth/api-keys.ts';
import type { MetaDb } from '../../meta/db.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import type { Query } from '../../reports/params.ts';
import { partnerAnalytics, partnerDashboard } from '../../reports/partner/partner.ts';

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
};

/**
 * The partner API, authenticated by X-Auth-ID / X-Auth-Token. Every failure
 * (missing header, unknown id, revoked key, wrong token) is the same 401.
 */
export async function partnerRoutes(app: FastifyInstance, opts: { engine: ReportEngine; meta: MetaDb }): Promise<void> {
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const who = await partnerOf(opts.meta, header(req, 'x-auth-id'), header(req, 'x-auth-token'));
    if (!who) {
      await reply.code(401).send({ message: 'Authentication failed: send a valid X-Auth-ID and X-Auth-Token.' });
      return;
    }
    req.principal = who;
  };
  app.get('/api/partner/v1/dashboard', { onRequest: authenticate }, async (req) => opts.engine.run(partnerDashboard, req.query as Query, req.principal!));
  app.get('/api/partner/v1/analytics', { onRequest: authenticate }, async (req) => opts.engine.run(partnerAnalytics, req.query as Query, req.principal!));
}
