import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import type { Principal } from '../auth/principal.ts';
import { addApiToken, DEFAULT_TOKEN_LIFETIME, LIFETIME_RULE, listApiTokens, parseLifetime, revokeApiToken } from '../auth/api-tokens.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import {
  addSubscription, checkNewSubscription, DELIVERY_FORMATS, getSubscription, listSubscriptions, removeSubscription, setPaused,
} from '../delivery/subscriptions.ts';
import { WINDOWS } from '../delivery/window.ts';
import type { FilterChoices } from './choices.ts';
import type { ConsoleOptions } from './plugin.ts';

interface DeliveryFrame {
  who: Principal;
  account?: { id: number; timezone: string };
  scopeIds: number[];
  now: Date;
}

export interface DeliveryPageOptions<F extends DeliveryFrame> extends ConsoleOptions {
  frame: (req: FastifyRequest, page: string) => Promise<F>;
  render: (reply: FastifyReply, f: F, data: Record<string, unknown>, errors?: Record<string, string[]>) => Promise<unknown>;
  filterChoices: (f: F) => Promise<FilterChoices>;
}

const WINDOW_LABELS: Record<string, string> = { yesterday: 'Yesterday', last_7_days: 'Last 7 days', month_to_date: 'Month to date', last_month: 'Last month' };

/**
 * The Delivery page: the user's API tokens (create, shown once; revoke) and their
 * scheduled reports (create for the account in view, pause, resume, delete, with the last
 * deliveries). Every change is a POST form with its CSRF token; the checks are the API's
 * own (checkSubscription, the report's parameter rules, the scope).
 */
export async function deliveryPages<F extends DeliveryFrame>(app: FastifyInstance, opts: DeliveryPageOptions<F>): Promise<void> {
  const { meta } = opts;
  const reports = opts.reports.filter((d) => d.endpoint?.auth === 'bearer' && !d.endpoint.select);

  async function page(req: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, errors?: Record<string, string[]>) {
    const f = await opts.frame(req, 'delivery');
    const [tokens, subs, choices] = await Promise.all([listApiTokens(meta, f.who.userId), listSubscriptions(meta, f.who.userId), opts.filterChoices(f)]);
    const recent = subs.length
      ? await meta.selectFrom('deliveries').select(['subscription_id', 'status', 'occurrence', 'sent_at', 'last_error', 'late']).where('subscription_id', 'in', subs.map((s) => s.id)).orderBy('created_at', 'desc').limit(200).execute()
      : [];
    const last = new Map<number, (typeof recent)[number]>();
    for (const r of recent) if (!last.has(r.subscription_id)) last.set(r.subscription_id, r);
    return opts.render(reply, f, {
      tokens, subs, last, campaigns: choices.campaigns, reportChoices: reports.map((d) => ({ value: `${d.family}/${d.name}`, label: `${d.title} (${d.family})` })),
      windows: WINDOWS.map((w) => ({ value: w, label: WINDOW_LABELS[w] })), formats: DELIVERY_FORMATS, emailEnabled: opts.delivery?.email ?? false,
      deliveryEnabled: opts.delivery !== undefined, defaultLifetime: DEFAULT_TOKEN_LIFETIME, zone: f.account?.timezone ?? 'UTC',
      form: {}, newToken: null, ...extra,
      // A run as the subscription's own clock reads it: "Mon 7 Dec 07:00 EST".
      localRun: (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('ccc d LLL yyyy HH:mm ZZZZ'),
    }, errors);
  }

  const back = (reply: FastifyReply) => reply.redirect('/console/delivery', 303);
  const own = async (req: FastifyRequest) => {
    const id = Number((req.params as { id: string }).id);
    const s = Number.isSafeInteger(id) ? await getSubscription(meta, id, req.consoleUser!.userId) : undefined;
    if (!s) throw new NotFoundError('No such subscription of yours.');
    return s;
  };
  const body = (req: FastifyRequest) => (req.body ?? {}) as Record<string, string | undefined>;

  app.get('/console/delivery', async (req, reply) => page(req, reply));

  app.post('/console/delivery/tokens', { preHandler: app.csrfProtection }, async (req, reply) => {
    const b = body(req);
    const errors: Record<string, string[]> = {};
    const name = (b.name ?? '').trim();
    if (name.length < 1 || name.length > 100) errors.token_name = ['The name is required: 1 to 100 characters.'];
    const lifetime = parseLifetime(b.expires_in || DEFAULT_TOKEN_LIFETIME);
    if (lifetime === undefined) errors.expires_in = [`The expires_in ${LIFETIME_RULE}.`];
    if (Object.keys(errors).length) return page(req, reply, { tokenForm: b }, errors);
    const t = await addApiToken(meta, req.consoleUser!.userId, name, lifetime!);
    // Shown in this answer only: the page after a reload lists the token without it.
    reply.header('cache-control', 'no-store');
    return page(req, reply, { newToken: { ...t, name } });
  });

  app.post('/console/delivery/tokens/:id/revoke', { preHandler: app.csrfProtection }, async (req, reply) => {
    if (!(await revokeApiToken(meta, (req.params as { id: string }).id, req.consoleUser!.userId))) throw new NotFoundError('No live API token of yours with that id.');
    return back(reply);
  });

  app.post('/console/delivery/subscriptions', { preHandler: app.csrfProtection }, async (req, reply) => {
    const b = body(req);
    const f = await opts.frame(req, 'delivery');
    const params: Record<string, string> = {};
    if (b.account_id) params.account_id = b.account_id;
    if (b.campaign_id) params.campaign_id = b.campaign_id;
    const channels = [
      ...((b.emails ?? '').trim() ? [{ type: 'email', to: (b.emails ?? '').split(/[\s,;]+/).filter(Boolean) }] : []),
      ...((b.webhook ?? '').trim() ? [{ type: 'webhook', url: (b.webhook ?? '').trim() }] : []),
    ];
    const input: Record<string, unknown> = { name: b.name, report: b.report, params, cron: b.cron, zone: b.zone, format: b.format, channels, ...(b.window ? { window: b.window } : {}) };
    try {
      if (!opts.delivery) throw new ValidationError({ report: ['Scheduled delivery does not run on this server.'] });
      const checked = await checkNewSubscription(input, { catalogue: opts.reports, limits: opts.delivery.limits, email: opts.delivery.email, engine: opts.engine, who: req.consoleUser!, now: f.now });
      await addSubscription(meta, req.consoleUser!.userId, checked, f.now);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // The API's field names, as the form names them.
      const errors: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(err.errors)) {
        const field = k === 'channels' ? (channels.some((c) => c.type === 'email') ? 'emails' : 'channels')
          : k.startsWith('channels.') ? (channels[Number(k.split('.')[1])]?.type === 'webhook' ? 'webhook' : 'emails')
          : k === 'params' ? 'campaign_id' : k.replace(/^params\./, '');
        errors[field] = [...(errors[field] ?? []), ...v];
      }
      return page(req, reply, { form: b }, errors);
    }
    return back(reply);
  });

  for (const action of ['pause', 'resume', 'delete'] as const) {
    app.post(`/console/delivery/subscriptions/:id/${action}`, { preHandler: app.csrfProtection }, async (req, reply) => {
      const s = await own(req);
      if (action === 'delete') await removeSubscription(meta, s.id);
      else await setPaused(meta, s, action === 'pause', new Date());
      return back(reply);
    });
  }
}
