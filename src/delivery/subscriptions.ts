import crypto from 'node:crypto';
import ipaddr from 'ipaddr.js';
import addressparser from 'nodemailer/lib/addressparser';
import type { MetaDb, SubscriptionsTable } from '../meta/db.ts';
import type { Selectable } from 'kysely';
import type { ReportDeclaration } from '../reports/declaration.ts';
import { servedFormats, type ReportEngine } from '../reports/engine.ts';
import { parseParams, type Query } from '../reports/params.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { nextRun, scheduleProblems } from './schedule.ts';
import { resolveWindow, WINDOWS, type RelativeWindow } from './window.ts';

/** What a subscription delivers: a report file, an HTML summary of it. */
export const DELIVERY_FORMATS = ['csv', 'xlsx', 'html'] as const;
export type DeliveryFormat = (typeof DELIVERY_FORMATS)[number];

export type Channel =
  | { id: string; type: 'email'; to: string[] }
  | { id: string; type: 'webhook'; url: string; secrets: WebhookSecret[] };

/** A webhook signing secret; an old one keeps signing until `until` while receivers move to the new one. */
export interface WebhookSecret {
  secret: string;
  until: string | null;
}

export interface Subscription {
  id: number;
  userId: number;
  name: string;
  kind: 'report' | 'alert';
  /** `family/name` of a catalogue report (report subscriptions). */
  report: string | null;
  params: Record<string, string>;
  window: RelativeWindow | null;
  cron: string;
  zone: string;
  format: DeliveryFormat;
  channels: Channel[];
  /** An alert's rule (alerts/rules.ts). */
  rule: Record<string, unknown> | null;
  nextRunAt: string | null;
  createdAt: string;
  pausedAt: string | null;
}

export interface SubscriptionLimits {
  /** Webhooks may point at loopback and private addresses (tests, a receiver on the same network). */
  allowPrivateWebhooks?: boolean;
}

/** The report a subscription names, by `family/name`. */
export function reportOf(catalogue: readonly ReportDeclaration[], key: string): ReportDeclaration | undefined {
  return catalogue.find((d) => `${d.family}/${d.name}` === key && d.endpoint !== undefined);
}

/** The parameters a window fills in, by the names a report takes. */
function windowParams(decl: ReportDeclaration, window: RelativeWindow, zone: string, at: Date): Query {
  const w = resolveWindow(window, zone, at);
  const q: Query = {};
  if (decl.params.includes('date_from')) Object.assign(q, { date_from: w.from, date_to: w.to });
  if (decl.params.includes('from_date')) Object.assign(q, { from_date: w.from, to_date: w.to });
  if (decl.params.includes('month')) q.month = w.month;
  return q;
}

const WINDOW_PARAMS = ['date_from', 'date_to', 'from_date', 'to_date', 'month'] as const;
/** Parameters a delivery sets itself: the file's format and paging. */
const OWN_PARAMS = ['format', 'cursor', 'limit', 'bom', 'template'];

/**
 * The query a subscription's report runs with at `at`: its parameters, the window's days,
 * and the subscription's zone where the report takes a timezone and none was given.
 */
export function queryAt(decl: ReportDeclaration, s: Pick<Subscription, 'params' | 'window' | 'zone' | 'format'>, at: Date): Query {
  const q: Query = { ...s.params };
  if (s.window) Object.assign(q, windowParams(decl, s.window, s.zone, at));
  if (decl.params.includes('timezone') && q.timezone === undefined) q.timezone = s.zone;
  if (s.format !== 'html' && decl.params.includes('format')) q.format = s.format;
  return q;
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/**
 * Checks a subscription as the API, the CLI and the console give it, and returns it ready
 * to store. Every problem is named by its field (`params.campaign_id`, `channels.1.url`);
 * a parameter is read by the report's own reader, as the report's endpoint reads it.
 */
export function checkSubscription(input: Record<string, unknown>, catalogue: readonly ReportDeclaration[], limits: SubscriptionLimits, now: Date): Omit<Subscription, 'id' | 'userId' | 'createdAt' | 'pausedAt' | 'nextRunAt' | 'kind' | 'rule'> {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => { (errors[field] ??= []).push(message); };
  const known = ['name', 'report', 'params', 'window', 'cron', 'zone', 'format', 'channels'];
  for (const k of Object.keys(input)) if (!known.includes(k)) add(k, `The ${k} field is not accepted here.`);
  const name = text(input.name);
  if (name.length < 1 || name.length > 200) add('name', 'The name is required: 1 to 200 characters.');
  Object.assign(errors, scheduleProblems({ cron: input.cron, zone: input.zone }));
  const format = input.format === undefined ? 'xlsx' : input.format;
  if (!DELIVERY_FORMATS.includes(format as DeliveryFormat)) add('format', `The format must be one of: ${DELIVERY_FORMATS.join(', ')}.`);
  const window = input.window === undefined || input.window === null ? null : input.window;
  if (window !== null && !WINDOWS.includes(window as RelativeWindow)) add('window', `The window must be one of: ${WINDOWS.join(', ')}.`);

  const decl = typeof input.report === 'string' ? reportOf(catalogue, input.report) : undefined;
  if (!decl) {
    const names = catalogue.filter((d) => d.endpoint).map((d) => `${d.family}/${d.name}`);
    add('report', `The report must be one of: ${names.join(', ')}.`);
  }
  const params: Record<string, string> = {};
  if (input.params !== undefined && (typeof input.params !== 'object' || input.params === null || Array.isArray(input.params))) add('params', 'The params must be an object of report parameters.');
  else {
    for (const [k, v] of Object.entries((input.params ?? {}) as Record<string, unknown>)) {
      if (typeof v === 'string') params[k] = v;
      else if (typeof v === 'number' && Number.isFinite(v)) params[k] = String(v);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')) params[k] = v.join(',');
      else add(`params.${k}`, `The ${k} parameter must be a string, a number or a list of them.`);
    }
  }
  if (decl) {
    const takesDays = WINDOW_PARAMS.some((p) => decl.params.includes(p));
    if (window !== null && !takesDays) add('window', `The ${input.report} report has no date range: leave the window out.`);
    if (window === null && takesDays && decl.required?.some((p) => (WINDOW_PARAMS as readonly string[]).includes(p))) add('window', `The ${input.report} report needs a window (${WINDOWS.join(', ')}).`);
    if (window === 'yesterday' || window === 'last_7_days') {
      if (!decl.params.includes('date_from') && !decl.params.includes('from_date') && decl.params.includes('month')) add('window', 'A monthly report takes month_to_date or last_month.');
    }
    for (const k of Object.keys(params)) {
      if (window !== null && (WINDOW_PARAMS as readonly string[]).includes(k)) add(`params.${k}`, `The ${k} comes from the window: leave it out.`);
      if (OWN_PARAMS.includes(k)) add(`params.${k}`, `The ${k} parameter is set by the delivery: use the subscription's format.`);
    }
    const formats = servedFormats(decl);
    if ((format === 'csv' || format === 'xlsx') && !formats.includes(format)) add('format', `The ${input.report} report has no ${format} file: use html.`);
    if (format === 'html' && !formats.includes('json')) add('format', `The ${input.report} report is a file only: use ${formats.join(' or ')}.`);
    if (!Object.keys(errors).some((k) => k.startsWith('params') || k === 'window' || k === 'zone')) {
      try {
        const q = queryAt(decl, { params, window: window as RelativeWindow | null, zone: input.zone as string, format: format as DeliveryFormat }, now);
        parseParams(q, decl.params, decl.required, { formats, domains: decl.domains, now });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const [k, msgs] of Object.entries(err.errors)) for (const m of msgs) add(`params.${k}`, m);
      }
    }
  }
  const channels = checkChannels(input.channels, limits, add);
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return { name, report: `${decl!.family}/${decl!.name}`, params, window: window as RelativeWindow | null, cron: (input.cron as string).trim(), zone: input.zone as string, format: format as DeliveryFormat, channels };
}

/**
 * Everything checkSubscription checks, and what only a running server can: that e-mail
 * can be sent at all, and that the parameters are in the caller's scope (the report is
 * prepared as the caller, so an account or campaign outside it is a 422 now, not a failed
 * delivery later). The API and the console both create subscriptions through this.
 */
export async function checkNewSubscription(
  input: Record<string, unknown>, o: { catalogue: readonly ReportDeclaration[]; limits: SubscriptionLimits; email: boolean; engine: ReportEngine; who: Principal; now: Date },
): Promise<ReturnType<typeof checkSubscription>> {
  const checked = checkSubscription(input, o.catalogue, o.limits, o.now);
  if (!o.email && checked.channels.some((c) => c.type === 'email')) {
    throw new ValidationError({ channels: ['E-mail delivery is not configured on this server (CALLBOARD_SMTP_URL): use a webhook, or ask an operator.'] });
  }
  const decl = reportOf(o.catalogue, checked.report!)!;
  const q = queryAt(decl, checked, o.now);
  const { format: _f, ...json } = q;
  try {
    await o.engine.prepare(decl, servedFormats(decl).includes('json') ? json : q, o.who);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(Object.fromEntries(Object.entries(err.errors).map(([k, v]) => [`params.${k}`, v])));
    if (err instanceof NotFoundError) throw new ValidationError({ params: [err.message] });
    throw err;
  }
  return checked;
}

/** A new webhook signing secret, in the Standard Webhooks form `whsec_` + base64 of 32 bytes. */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/** Checks the channels of a subscription: e-mail addresses, or an http(s) webhook URL. */
export function checkChannels(raw: unknown, limits: SubscriptionLimits, add: (field: string, message: string) => void): Channel[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 10) {
    add('channels', 'The channels must be a list of 1 to 10: {"type": "email", "to": ["a@example.com"]} or {"type": "webhook", "url": "https://…"}.');
    return [];
  }
  const out: Channel[] = [];
  raw.forEach((c: unknown, i) => {
    const at = `channels.${i}`;
    const ch = (c ?? {}) as Record<string, unknown>;
    const id = `ch${i + 1}`;
    if (ch.type === 'email') {
      const list = Array.isArray(ch.to) ? ch.to : typeof ch.to === 'string' ? [ch.to] : [];
      const to = list.map((x) => text(x));
      const bad = to.filter((a) => {
        const parsed = addressparser(a, { flatten: true });
        return parsed.length !== 1 || !/^[^\s@]+@[^\s@]+$/.test(parsed[0].address ?? '');
      });
      if (to.length === 0 || to.length > 50) add(`${at}.to`, 'An e-mail channel needs 1 to 50 addresses in "to".');
      else if (bad.length) add(`${at}.to`, `Not an e-mail address: ${bad.join(', ')}.`);
      out.push({ id, type: 'email', to });
    } else if (ch.type === 'webhook') {
      let url: URL | null = null;
      try {
        url = new URL(text(ch.url));
      } catch { /* reported below */ }
      if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) add(`${at}.url`, 'A webhook channel needs an http(s) "url" without credentials in it.');
      else if (!limits.allowPrivateWebhooks && privateHost(url.hostname)) add(`${at}.url`, 'The webhook URL points at a loopback or private address.');
      out.push({ id, type: 'webhook', url: url?.toString() ?? '', secrets: [{ secret: newWebhookSecret(), until: null }] });
    } else {
      add(`${at}.type`, 'The channel type must be "email" or "webhook".');
    }
  });
  return out;
}

/** Whether a host name is localhost or a literal address outside the public unicast range (loopback, private, link-local…). */
export function privateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (!ipaddr.isValid(h)) return false;
  const addr = ipaddr.process(h);
  return addr.range() !== 'unicast';
}

/** A stored row as a subscription. */
export function fromRow(r: Selectable<SubscriptionsTable>): Subscription {
  return {
    id: r.id, userId: r.user_id, name: r.name, kind: r.kind, report: r.report, params: JSON.parse(r.params) as Record<string, string>,
    window: r.window as RelativeWindow | null, cron: r.cron, zone: r.zone, format: r.format as DeliveryFormat,
    channels: JSON.parse(r.channels) as Channel[], rule: r.rule === null ? null : JSON.parse(r.rule) as Record<string, unknown>,
    nextRunAt: r.next_run_at, createdAt: r.created_at, pausedAt: r.paused_at,
  };
}

/** Stores a checked subscription for a user; its first run is the schedule's next after `now`. */
export async function addSubscription(meta: MetaDb, userId: number, s: ReturnType<typeof checkSubscription>, now: Date, extra: { kind?: 'report' | 'alert'; rule?: Record<string, unknown> } = {}): Promise<Subscription> {
  const next = nextRun(s, now);
  const row = await meta.insertInto('subscriptions').values({
    user_id: userId, name: s.name, kind: extra.kind ?? 'report', report: s.report, params: JSON.stringify(s.params), window: s.window,
    cron: s.cron, zone: s.zone, format: s.format, channels: JSON.stringify(s.channels), rule: extra.rule ? JSON.stringify(extra.rule) : null,
    next_run_at: next?.toISOString() ?? null, created_at: now.toISOString(), paused_at: null,
  }).returningAll().executeTakeFirstOrThrow();
  return fromRow(row);
}

/** A subscription of a user (or any, for userId null), or undefined. */
export async function getSubscription(meta: MetaDb, id: number, userId: number | null): Promise<Subscription | undefined> {
  let q = meta.selectFrom('subscriptions').selectAll().where('id', '=', id);
  if (userId !== null) q = q.where('user_id', '=', userId);
  const row = await q.executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

export async function listSubscriptions(meta: MetaDb, userId: number | null): Promise<Subscription[]> {
  let q = meta.selectFrom('subscriptions').selectAll();
  if (userId !== null) q = q.where('user_id', '=', userId);
  return (await q.orderBy('id').execute()).map(fromRow);
}

/** Pauses or resumes; resuming starts from the next run after `now`, never the ones missed while paused. */
export async function setPaused(meta: MetaDb, s: Subscription, paused: boolean, now: Date): Promise<void> {
  await meta.updateTable('subscriptions').set(paused
    ? { paused_at: now.toISOString() }
    : { paused_at: null, next_run_at: nextRun(s, now)?.toISOString() ?? null }).where('id', '=', s.id).execute();
}

/** Removes a subscription and its delivery log. */
export async function removeSubscription(meta: MetaDb, id: number): Promise<void> {
  await meta.transaction().execute(async (tx) => {
    await tx.deleteFrom('deliveries').where('subscription_id', '=', id).execute();
    await tx.deleteFrom('alert_states').where('subscription_id', '=', id).execute();
    await tx.deleteFrom('subscriptions').where('id', '=', id).execute();
  });
}

/** A subscription as the API shows it: webhook secrets included, for its owner to verify signatures. */
export function publicView(s: Subscription) {
  return {
    id: s.id, name: s.name, kind: s.kind, report: s.report, params: s.params, window: s.window, cron: s.cron, zone: s.zone, format: s.format,
    channels: s.channels.map((c) => (c.type === 'email' ? c : { id: c.id, type: c.type, url: c.url, secrets: c.secrets.map((x) => x.secret) })),
    rule: s.rule, next_run_at: s.nextRunAt, created_at: s.createdAt, paused_at: s.pausedAt,
  };
}
