import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../errors.ts';
import type { MetaDb } from '../../meta/db.ts';
import type { Store } from '../../store/duckdb.ts';
import type { ReportDeclaration } from '../../reports/declaration.ts';
import type { ReportEngine } from '../../reports/engine.ts';
import { arr, bool, int, obj, str } from '../../reports/schema.ts';
import { nextRuns, scheduleProblems } from '../../delivery/schedule.ts';
import { checkRule, type Rule } from '../../alerts/rules.ts';
import { resolveScope } from '../../reports/scope.ts';
import type { LinkSigner } from '../../delivery/signing.ts';
import {
  addSubscription, checkChannels, checkNewSubscription, getSubscription, listSubscriptions, newWebhookSecret, publicView, removeSubscription, setPaused,
  type Subscription, type SubscriptionLimits,
} from '../../delivery/subscriptions.ts';
import { ERROR, INVALID, json, SECURITY, UNAUTHORIZED } from '../route-schema.ts';
import { sendAsIs } from '../export-response.ts';

export interface SubscriptionRouteOptions {
  meta: MetaDb;
  store: Store;
  engine: ReportEngine;
  reports: readonly ReportDeclaration[];
  limits: SubscriptionLimits;
  /** Whether e-mail can be sent (CALLBOARD_SMTP_URL): e-mail channels are refused without. */
  email: boolean;
  /** Sends a delivery again under its id (DeliveryWorker.redeliver), and wakes the worker. */
  redeliver: (id: string) => Promise<void>;
  now: () => Date;
}

const TAG = { tags: ['subscriptions'], security: SECURITY.bearer };
const nullable = { type: ['string', 'null'] };
const SUB = { type: 'object', description: 'a subscription (webhook channels show their signing secrets to their owner)' };
const NOT_FOUND = { description: 'no subscription of yours with that id', content: json(ERROR) };
const ID = obj({ id: int() });
const DELIVERY = obj({
  id: str({ description: 'webhook-id and Message-ID, the same on every attempt' }), occurrence: str(), channel: str(), late: bool, status: str({ enum: ['pending', 'sending', 'sent', 'failed', 'gone'] }),
  attempts: int(), next_attempt_at: str(), first_attempt_at: nullable, last_attempt_at: nullable, last_error: nullable, sent_at: nullable, created_at: str(),
});

/**
 * Scheduled deliveries of reports, managed by their owner (admins see everyone's): create,
 * list, show with the next runs, pause or resume, delete, the delivery log, and redeliver.
 * The signed file links of deliveries are served here too, without a login.
 */
export async function subscriptionRoutes(app: FastifyInstance, opts: SubscriptionRouteOptions): Promise<void> {
  const owned = async (idText: string, who: { userId: number; role: string }): Promise<Subscription> => {
    const id = /^\d{1,9}$/.test(idText) ? Number(idText) : NaN;
    const s = Number.isNaN(id) ? undefined : await getSubscription(opts.meta, id, who.role === 'admin' ? null : who.userId);
    if (!s) throw new NotFoundError(`No subscription ${idText} of yours.`);
    return s;
  };

  app.get('/api/subscriptions', {
    schema: { ...TAG, summary: 'Your subscriptions (an admin: everyone\'s)', operationId: 'subscriptions_list', response: { 200: { description: 'subscriptions', content: json(obj({ data: arr(SUB) })) }, 401: UNAUTHORIZED } },
  }, async (req) => {
    const who = req.principal!;
    return { data: (await listSubscriptions(opts.meta, who.role === 'admin' ? null : who.userId)).map(publicView) };
  });

  app.post('/api/subscriptions', {
    schema: {
      ...TAG, summary: 'Subscribe to a report on a schedule', operationId: 'subscriptions_create',
      description: 'Body: name, report (family/name), params, window (yesterday, last_7_days, month_to_date, last_month), cron (five fields), zone (IANA), format (csv, xlsx, html), channels ([{type: email, to: [...]}, {type: webhook, url}]). See docs/delivery.md.',
      body: { type: 'object' },
      response: { 201: { description: 'the subscription, with its webhook secrets and next runs', content: json(SUB) }, 401: UNAUTHORIZED, 422: INVALID },
    },
  }, async (req, reply) => {
    const who = req.principal!;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError({ body: ['The body must be a JSON object.'] });
    const checked = await checkNewSubscription(body, { catalogue: opts.reports, limits: opts.limits, email: opts.email, engine: opts.engine, who, now: opts.now() });
    const s = await addSubscription(opts.meta, who.userId, checked, opts.now());
    return reply.code(201).send({ ...publicView(s), next_runs: nextRuns(s, opts.now(), 5).map((d) => d.toISOString()) });
  });

  app.post('/api/alerts', {
    schema: {
      ...TAG, summary: 'Create an alert: a rule evaluated every minute, notified through the channels', operationId: 'alerts_create',
      description: 'Body: name, rule ({type: abandon_rate | caller_id_answer_rate | stale_sync | billing_mismatch, pending_evaluations, repeat_minutes, and the type\'s thresholds}), params ({account_id}), zone (IANA, for "today"), channels. See docs/delivery.md.',
      body: { type: 'object' },
      response: { 201: { description: 'the alert (a subscription of kind alert)', content: json(SUB) }, 401: UNAUTHORIZED, 422: INVALID },
    },
  }, async (req, reply) => {
    const who = req.principal!;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    let rule: Rule | null = null;
    try {
      rule = checkRule(body.rule);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      Object.assign(errors, err.errors);
    }
    const zone = body.zone ?? 'UTC';
    Object.assign(errors, scheduleProblems({ cron: '* * * * *', zone }));
    const params: Record<string, string> = {};
    const p = (body.params ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(p)) {
      if (k !== 'account_id') errors[`params.${k}`] = [`An alert takes only account_id.`];
      else if (!/^\d{1,9}$/.test(String(v))) errors['params.account_id'] = ['The account_id must be a positive integer.'];
      else params.account_id = String(v);
    }
    if (params.account_id) {
      try {
        await resolveScope(opts.store, who, Number(params.account_id));
      } catch (err) {
        errors['params.account_id'] = [(err as Error).message];
      }
    }
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (!name || name.length > 200) errors.name = ['The name is required: 1 to 200 characters.'];
    for (const k of Object.keys(body)) if (!['name', 'rule', 'params', 'zone', 'channels'].includes(k)) errors[k] = [`The ${k} field is not accepted here.`];
    const channels = checkChannels(body.channels, opts.limits, (f, m) => { (errors[f] ??= []).push(m); });
    if (!opts.email && channels.some((c) => c.type === 'email')) errors.channels = ['E-mail delivery is not configured on this server (CALLBOARD_SMTP_URL): use a webhook, or ask an operator.'];
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const s = await addSubscription(opts.meta, who.userId, { name, report: null, params, window: null, cron: '* * * * *', zone: zone as string, format: 'html', channels }, opts.now(), { kind: 'alert', rule: rule as unknown as Record<string, unknown> });
    return reply.code(201).send(publicView(s));
  });

  app.get('/api/subscriptions/:id', {
    schema: { ...TAG, summary: 'One subscription, with its next five runs', operationId: 'subscriptions_get', params: ID, response: { 200: { description: 'the subscription', content: json(SUB) }, 401: UNAUTHORIZED, 404: NOT_FOUND } },
  }, async (req) => {
    const s = await owned((req.params as { id: string }).id, req.principal!);
    if (s.kind === 'alert') {
      // An alert's rule instances, each with its state: what is firing now, and since when.
      const states = await opts.meta.selectFrom('alert_states').select(['instance', 'state', 'since', 'last_notified_at']).where('subscription_id', '=', s.id).orderBy('instance').execute();
      return { ...publicView(s), states };
    }
    return { ...publicView(s), next_runs: s.pausedAt ? [] : nextRuns(s, opts.now(), 5).map((d) => d.toISOString()) };
  });

  app.patch('/api/subscriptions/:id', {
    schema: {
      ...TAG, summary: 'Pause or resume a subscription', operationId: 'subscriptions_update', params: ID,
      body: obj({ paused: bool }),
      response: { 200: { description: 'the subscription', content: json(SUB) }, 401: UNAUTHORIZED, 404: NOT_FOUND, 422: INVALID },
    },
  }, async (req) => {
    const s = await owned((req.params as { id: string }).id, req.principal!);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    if (typeof body.paused !== 'boolean') errors.paused = ['The paused field is required: true or false.'];
    for (const k of Object.keys(body)) if (k !== 'paused') errors[k] = [`The ${k} field cannot be changed: delete the subscription and create it anew.`];
    if (Object.keys(errors).length) throw new ValidationError(errors);
    await setPaused(opts.meta, s, body.paused as boolean, opts.now());
    return publicView((await getSubscription(opts.meta, s.id, null))!);
  });

  app.delete('/api/subscriptions/:id', {
    schema: { ...TAG, summary: 'Delete a subscription and its delivery log', operationId: 'subscriptions_delete', params: ID, response: { 204: { description: 'deleted' }, 401: UNAUTHORIZED, 404: NOT_FOUND } },
  }, async (req, reply) => {
    const s = await owned((req.params as { id: string }).id, req.principal!);
    await removeSubscription(opts.meta, s.id);
    return reply.code(204).send();
  });

  app.post('/api/subscriptions/:id/channels/:channel/rotate-secret', {
    schema: {
      ...TAG, summary: 'Give a webhook channel a new signing secret; the old one keeps signing for 24 hours', operationId: 'subscriptions_rotate_secret',
      params: obj({ id: int(), channel: str() }),
      response: { 200: { description: 'the channel\'s secrets, newest first', content: json(obj({ secrets: arr(str()), old_until: str() })) }, 401: UNAUTHORIZED, 404: NOT_FOUND },
    },
  }, async (req) => {
    const p = req.params as { id: string; channel: string };
    const s = await owned(p.id, req.principal!);
    const ch = s.channels.find((c) => c.id === p.channel);
    if (!ch || ch.type !== 'webhook') throw new NotFoundError(`No webhook channel ${p.channel} in subscription ${s.id}.`);
    // While receivers move to the new secret, every delivery is signed with both.
    const until = new Date(opts.now().getTime() + 24 * 3_600_000).toISOString();
    ch.secrets = [{ secret: newWebhookSecret(), until: null }, ...ch.secrets.filter((x) => x.until === null || Date.parse(x.until) > opts.now().getTime()).slice(0, 1).map((x) => ({ ...x, until }))];
    await opts.meta.updateTable('subscriptions').set({ channels: JSON.stringify(s.channels) }).where('id', '=', s.id).execute();
    return { secrets: ch.secrets.map((x) => x.secret), old_until: until };
  });

  app.get('/api/subscriptions/:id/deliveries', {
    schema: {
      ...TAG, summary: 'The delivery log of a subscription, newest first', operationId: 'subscriptions_deliveries', params: ID,
      querystring: obj({ limit: int({ minimum: 1, maximum: 500, default: 50 }) }),
      response: { 200: { description: 'deliveries', content: json(obj({ data: arr(DELIVERY) })) }, 401: UNAUTHORIZED, 404: NOT_FOUND, 422: INVALID },
    },
  }, async (req) => {
    const s = await owned((req.params as { id: string }).id, req.principal!);
    const q = req.query as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    const limitText = Object.hasOwn(q, 'limit') ? q.limit : '50';
    if (typeof limitText !== 'string' || !/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500) errors.limit = ['The limit must be an integer from 1 to 500.'];
    for (const k of Object.keys(q)) if (k !== 'limit') errors[k] = [`The ${k} parameter is not accepted here.`];
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const rows = await opts.meta.selectFrom('deliveries').selectAll().where('subscription_id', '=', s.id)
      .orderBy('created_at', 'desc').orderBy('occurrence', 'desc').limit(Number(limitText)).execute();
    return { data: rows.map(({ payload: _p, lease_until: _l, subscription_id: _s, ...r }) => ({ ...r, late: r.late === 1 })) };
  });

  app.post('/api/subscriptions/:id/deliveries/:delivery/redeliver', {
    schema: {
      ...TAG, summary: 'Send a delivery again, under the same id', operationId: 'subscriptions_redeliver', params: obj({ id: int(), delivery: str() }),
      response: { 202: { description: 'queued', content: json(obj({ id: str(), status: str() })) }, 401: UNAUTHORIZED, 404: NOT_FOUND },
    },
  }, async (req, reply) => {
    const p = req.params as { id: string; delivery: string };
    const s = await owned(p.id, req.principal!);
    const row = await opts.meta.selectFrom('deliveries').select('id').where('id', '=', p.delivery).where('subscription_id', '=', s.id).executeTakeFirst();
    if (!row) throw new NotFoundError(`No delivery ${p.delivery} of subscription ${s.id}.`);
    await opts.redeliver(row.id);
    return reply.code(202).send({ id: row.id, status: 'pending' });
  });
}

/** The signed links of delivered files: no login, the link is the credential until it expires. */
export async function deliveryFileRoutes(app: FastifyInstance, opts: { links: LinkSigner; dir: string; now: () => Date }): Promise<void> {
  app.get('/api/deliveries/file', {
    schema: {
      tags: ['subscriptions'], security: SECURITY.none, summary: 'A delivered file, by the signed link of its e-mail or webhook', operationId: 'delivery_file',
      querystring: obj({ t: str({ description: 'the signed token of the link' }) }),
      response: { 200: { description: 'the file', content: { 'application/octet-stream': { schema: str({ format: 'binary' }) } } }, 404: { description: 'unknown, tampered with, or the file is gone', content: json(ERROR) }, 410: { description: 'the link has expired', content: json(ERROR) } },
    },
  }, async (req, reply) => {
    const t = (req.query as Record<string, unknown>).t;
    const v = typeof t === 'string' ? opts.links.verify(t, opts.now()) : { problem: 'invalid' as const };
    if ('problem' in v) {
      if (v.problem === 'expired') return reply.code(410).send({ message: 'This download link has expired: the next delivery brings a new one.' });
      throw new NotFoundError('No such file.');
    }
    const abs = path.resolve(opts.dir, v.file);
    if (!abs.startsWith(path.resolve(opts.dir) + path.sep) || !fs.existsSync(abs)) throw new NotFoundError('No such file: it may have been removed by retention.');
    const name = path.basename(abs);
    const type = name.endsWith('.xlsx') ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : 'text/csv; charset=utf-8';
    sendAsIs(req);
    return reply.header('content-type', type).header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store').send(fs.createReadStream(abs));
  });
}
