import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { NotFoundError, ValidationError } from '../errors.ts';
import { cachedBody } from '../http/routes/reports.ts';
import { firstSyncMessage } from '../http/readiness.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { Query } from '../reports/params.ts';
import { MAX_SPAN_DAYS } from '../reports/params.ts';
import { dataState } from '../store/data-as-of.ts';
import { accountChoices, filterChoices, type FilterChoices } from './choices.ts';
import type { ConsoleOptions, ReadSession } from './plugin.ts';
import { apiQuery, one, PRESETS, queryString, readState, stateQuery } from './view-state.ts';
import { offsetLabel, zoneOptions } from './zones.ts';
import { deliveryPages } from './delivery-pages.ts';

/** What a report gave a page: its JSON answer, or the problems that refused it. */
type Outcome = { ok: true; body: any } | { ok: false; errors: Record<string, string[]>; message: string };

/** The console's pages, in the order of its navigation; `roles` limits who sees one. */
export const PAGES = [
  { id: 'telesales', title: 'Telesales overview', nav: 'Telesales' },
  { id: 'compliance', title: 'Compliance', nav: 'Compliance' },
  { id: 'company', title: 'Company dashboard', nav: 'Company' },
  { id: 'accounts', title: 'Your accounts', nav: 'Accounts', roles: ['partner'] },
  { id: 'campaigns', title: 'Campaigns', nav: 'Campaigns' },
  { id: 'billing', title: 'Billing', nav: 'Billing' },
  { id: 'calls', title: 'Call detail', nav: 'Calls' },
  { id: 'delivery', title: 'Scheduled reports and API tokens', nav: 'Delivery' },
] as const;

export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The page-specific keys each page keeps in its URL (besides the shared filters). */
const PAGE_KEYS: Record<string, readonly string[]> = {
  telesales: ['group_by', 'sort', 'dir'],
  compliance: ['window_minutes'],
  company: ['days'],
  accounts: [],
  campaigns: ['page', 'page_size'],
  billing: ['month', 'page'],
  calls: ['direction', 'status', 'limit', 'cursor'],
  delivery: [],
};

/** The agent table's sortable columns. */
const AGENT_SORT = ['name', 'dials', 'answers', 'avg_aht_sec', 'conversions', 'conv_rate'] as const;

export async function consolePages(app: FastifyInstance, opts: ConsoleOptions & { readSession: ReadSession }): Promise<void> {
  const { store, engine } = opts;
  const byName = new Map(opts.reports.map((d) => [`${d.family}/${d.name}`, d]));
  const decl = (family: string, name: string): ReportDeclaration => {
    const d = byName.get(`${family}/${name}`);
    if (!d) throw new Error(`the catalogue has no report ${family}/${name}`);
    return d;
  };

  /** The CSV and XLSX links of a report's files: the API's own route under /console, authenticated by the session. */
  const fileLinks = (d: ReportDeclaration, query: Record<string, string | string[]>) => {
    const ep = d.endpoint!;
    const route = `/console${ep.path.replace(':report', d.name)}${ep.exportTwin ? '/export' : ''}`;
    return { csv: `${route}?${queryString({ ...query, format: 'csv' })}`, xlsx: `${route}?${queryString({ ...query, format: 'xlsx' })}` };
  };

  // Pages need a session: without one, the sign-in page, which comes back here.
  app.addHook('onRequest', async (req, reply) => {
    if (!(await opts.readSession(req))) return reply.redirect(`/?${new URLSearchParams({ next: req.url })}`);
  });

  /** Everything a page's frame shows: the user, the account switcher, the filters, the freshness. */
  async function frame(req: FastifyRequest, page: string) {
    const who = req.consoleUser!;
    const q = req.query as Query;
    const accounts = await accountChoices(store, who);
    const asked = one(q, 'account_id');
    const account = accounts.find((a) => String(a.id) === asked) ?? (accounts.length === 1 ? accounts[0] : undefined);
    const now = opts.now();
    const state = readState(q, account?.timezone ?? 'UTC', now, PAGE_KEYS[page]);
    const scopeIds = account ? [account.id] : accounts.map((a) => a.id);
    const { asOf, version } = await dataState(store);
    return { who, accounts, account, state, now, asOf, version, scopeIds };
  }
  type Frame = Awaited<ReturnType<typeof frame>>;

  /** Runs one report of the catalogue as the API would answer it, through the result cache. */
  async function run(f: Frame, d: ReportDeclaration, query: Query): Promise<Outcome> {
    try {
      const prepared = await engine.prepare(d, query, f.who, ['json']);
      return { ok: true, body: JSON.parse((await cachedBody(engine, prepared, f.version, opts.cache)).text) };
    } catch (e) {
      if (e instanceof ValidationError) return { ok: false, errors: e.errors, message: e.message };
      if (e instanceof NotFoundError) return { ok: false, errors: {}, message: e.message };
      throw e;
    }
  }

  /** Runs a batched report (`decl.batch`) for each of `ids` in one query, with the outcome `run` would give each. */
  async function runEach(f: Frame, d: ReportDeclaration, query: Query, ids: readonly number[]): Promise<Outcome[]> {
    try {
      const bodies = await engine.batch(d, query, f.who, ids);
      return ids.map((id): Outcome => {
        const body = bodies.get(id);
        return body === undefined ? { ok: false, errors: {}, message: `No campaign ${id} in your scope.` } : { ok: true, body };
      });
    } catch (e) {
      if (e instanceof ValidationError) return ids.map(() => ({ ok: false, errors: e.errors, message: e.message }));
      if (e instanceof NotFoundError) return ids.map(() => ({ ok: false, errors: {}, message: e.message }));
      throw e;
    }
  }

  /** Renders a page in its frame; the problems of every report it ran are shown by field. */
  async function render(reply: FastifyReply, f: Frame, page: string, data: Record<string, unknown>, outcomes: Outcome[], choices?: FilterChoices) {
    const fieldErrors: Record<string, string[]> = {};
    const messages: string[] = [];
    for (const o of outcomes) {
      if (o.ok) continue;
      for (const [field, list] of Object.entries(o.errors)) fieldErrors[field] = [...new Set([...(fieldErrors[field] ?? []), ...list])];
      if (Object.keys(o.errors).length === 0 && !messages.includes(o.message)) messages.push(o.message);
    }
    const meta = PAGES.find((p) => p.id === page)!;
    if (Object.keys(fieldErrors).length) reply.code(422);
    else if (messages.length) reply.code(404);
    reply.request.dataAsOf = f.asOf;
    return reply.view(`${page}.eta`, {
      title: meta.title, page, pages: PAGES.filter((p) => !('roles' in p) || (p.roles as readonly string[]).includes(f.who.role)),
      user: f.who, accounts: f.accounts, account: f.account, state: f.state, fieldErrors, messages,
      asOf: f.asOf, asOfLocal: f.asOf ? localTime(f.asOf, f.state.timezone) : null,
      presets: PRESETS, zones: zoneOptions(f.now, f.accounts.map((a) => a.timezone)),
      maxDays: MAX_SPAN_DAYS, choices, link: (changes: Record<string, string | undefined> = {}) => `/console/${page}?${stateQuery(f.state, changes)}`,
      // Another page keeps the filters, not this page's own keys (its sort, its page).
      navQuery: stateQuery({ ...f.state, extra: {} }),
      stateQuery: (changes: Record<string, string | undefined> = {}) => stateQuery(f.state, changes),
      csrf: reply.generateCsrf(), ...data,
    });
  }

  /** Before the first sync has finished there are no figures to show, only its progress. */
  const notReady = (reply: FastifyReply, f: Frame) =>
    reply.code(503).header('retry-after', '10').view('error.eta', { title: 'Not ready', status: 503, message: firstSyncMessage(opts.syncProgress?.() ?? null), user: f.who, csrf: reply.generateCsrf() });

  app.get('/console/telesales', async (req, reply) => {
    const f = await frame(req, 'telesales');
    if (!f.asOf) return notReady(reply, f);
    const groupBy = ['day', 'week', 'hour'].includes(f.state.extra.group_by ?? '') ? f.state.extra.group_by! : 'day';
    const names = ['dashboard', 'time-series', 'funnel', 'disposition-breakdown', 'hour-dow-heatmap', 'agent-performance', 'lead-source-attribution', 'caller-id-health'] as const;
    // Each report's query holds the parameters it declares: group_by reaches the time series only.
    const queries = names.map((n) => apiQuery(f.state, decl('telesales', n).params, { group_by: groupBy }));
    const [outcomes, choices] = await Promise.all([
      Promise.all(names.map((n, i) => run(f, decl('telesales', n), queries[i]))),
      filterChoices(store, f.scopeIds),
    ]);
    const get = (n: (typeof names)[number]) => {
      const o = outcomes[names.indexOf(n)];
      return o.ok ? o.body.data : null;
    };
    const sortKey = (AGENT_SORT as readonly string[]).includes(f.state.extra.sort ?? '') ? f.state.extra.sort! : 'dials';
    const dir = f.state.extra.dir === 'asc' ? 'asc' : 'desc';
    const agents = get('agent-performance') as Record<string, unknown>[] | null;
    const sorted = agents ? [...agents].sort((a, b) => compare(a[sortKey], b[sortKey]) * (dir === 'asc' ? 1 : -1) || Number(a.agent_id) - Number(b.agent_id)) : null;
    const files = Object.fromEntries(names.map((n, i) => [n, fileLinks(decl('telesales', n), queries[i])]));
    return render(reply, f, 'telesales', {
      groupBy, kpis: get('dashboard'), series: get('time-series'), funnel: get('funnel'), dispositions: get('disposition-breakdown'),
      heatmap: heatmapRows(get('hour-dow-heatmap')), agents: sorted, sortKey, dir, sortable: AGENT_SORT,
      sources: get('lead-source-attribution'), callerIds: get('caller-id-health'), files, dayNames: DAY_NAMES,
    }, outcomes, choices);
  });

  app.get('/console/compliance', async (req, reply) => {
    const f = await frame(req, 'compliance');
    if (!f.asOf) return notReady(reply, f);
    const choices = await filterChoices(store, f.scopeIds);
    // Abandonment is judged on dialled campaigns: SMS and inbound ones have none.
    const dialled = choices.campaigns.filter((c) => c.type !== 'sms' && c.type !== 'inbound');
    const d = decl('telesales', 'abandon-rate');
    const outcomes = await runEach(f, d, apiQuery(f.state, d.params), dialled.map((c) => c.id));
    const rows = dialled.map((c, i) => ({ campaign: c, outcome: outcomes[i] }));
    const selected = rows.find((r) => String(r.campaign.id) === f.state.campaign_id) ?? rows.find((r) => r.outcome.ok && r.outcome.body.data.current.breached) ?? rows[0];
    const current = selected?.outcome.ok ? selected.outcome.body.data.current : null;
    // The call-detail view of exactly the calls counted as abandoned: the campaign, status
    // abandoned, and the window's own instants (date-times, not days).
    const abandonedLink = current ? `/console/calls?${new URLSearchParams({
      date_from: utcIso(current.window_from), date_to: utcIso(current.window_to), timezone: f.state.timezone,
      ...(f.state.account_id ? { account_id: f.state.account_id } : {}), campaign_id: String(current.campaign_id), status: 'abandoned',
    })}` : null;
    return render(reply, f, 'compliance', { rows, selected, current, breaches: selected?.outcome.ok ? selected.outcome.body.data.breaches : [], abandonedLink, localTime: (t: string) => localTime(utcIso(t), f.state.timezone) }, outcomes.filter((o) => !o.ok && Object.keys(o.errors).some((k) => k !== 'campaign_id')), choices);
  });

  app.get('/console/company', async (req, reply) => {
    const f = await frame(req, 'company');
    if (!f.asOf) return notReady(reply, f);
    const d = decl('company', 'dashboard');
    const o = await run(f, d, apiQuery(f.state, d.params));
    return render(reply, f, 'company', { days: f.state.extra.days ?? '30', dash: o.ok ? o.body : null }, [o]);
  });

  app.get('/console/accounts', async (req, reply) => {
    const f = await frame(req, 'accounts');
    if (f.who.role !== 'partner') throw new NotFoundError('The accounts page is for partner users.');
    if (!f.asOf) return notReady(reply, f);
    const o = await run(f, decl('partner', 'dashboard'), {});
    return render(reply, f, 'accounts', { partner: o.ok ? o.body : null }, [o]);
  });

  app.get('/console/campaigns', async (req, reply) => {
    const f = await frame(req, 'campaigns');
    if (!f.asOf) return notReady(reply, f);
    const d = decl('campaigns', 'summary');
    const o = await run(f, d, apiQuery(f.state, d.params, { page_size: f.state.extra.page_size ?? '25' }));
    const download = decl('campaigns', 'campaign-report');
    const files = (id: number) => fileLinks(download, { campaign_id: String(id), timezone: f.state.timezone });
    return render(reply, f, 'campaigns', { summary: o.ok ? o.body : null, files }, [o]);
  });

  app.get('/console/billing', async (req, reply) => {
    const f = await frame(req, 'billing');
    if (!f.asOf) return notReady(reply, f);
    const lastMonth = DateTime.fromJSDate(f.now, { zone: 'UTC' }).startOf('month').minus({ months: 1 }).toFormat('yyyy-MM');
    const month = f.state.extra.month ?? lastMonth;
    const reconciliation = decl('billing', 'reconciliation');
    const mismatches = decl('billing', 'mismatch-page');
    const recQuery = apiQuery(f.state, reconciliation.params, { month });
    const [rec, mis] = await Promise.all([
      run(f, reconciliation, recQuery),
      run(f, mismatches, apiQuery(f.state, mismatches.params, { month, page_size: '50' })),
    ]);
    // The mismatch page's files are every mismatch of the month, whatever the page.
    const files = { ...fileLinks(reconciliation, recQuery), mismatchesCsv: fileLinks(mismatches, recQuery).csv };
    return render(reply, f, 'billing', { month, rec: rec.ok ? rec.body : null, mismatches: mis.ok ? mis.body : null, files }, [rec, mis]);
  });

  app.get('/console/calls', async (req, reply) => {
    const f = await frame(req, 'calls');
    if (!f.asOf) return notReady(reply, f);
    const d = decl('calls', 'calls');
    const query = apiQuery(f.state, d.params);
    const [o, choices] = await Promise.all([run(f, d, { limit: '100', ...query }), filterChoices(store, f.scopeIds)]);
    const { cursor: _c, limit: _l, ...fileQuery } = query;
    return render(reply, f, 'calls', {
      calls: o.ok ? o.body : null, statuses: d.domains?.status ?? [], directions: d.domains?.direction ?? [],
      files: fileLinks(d, fileQuery),
    }, [o], choices);
  });

  await deliveryPages(app, { ...opts, frame, render: (reply, f, data, errors) => render(reply, f, 'delivery', data, errors ? [{ ok: false, errors, message: 'The given data was invalid.' }] : []), filterChoices: (f) => filterChoices(store, f.scopeIds) });
}

/** The heatmap's 168 values as 7 rows (Sunday first) of 24 hours, each with its colour step (0–10). */
function heatmapRows(cells: { day_of_week: number; hour: number; dials: number; answered: number; answer_rate_pct: number }[] | null) {
  if (!cells) return null;
  const rows = Array.from({ length: 7 }, () => [] as ((typeof cells)[number] & { step: number | null })[]);
  for (const c of cells) rows[c.day_of_week][c.hour] = { ...c, step: c.dials === 0 ? null : Math.min(10, Math.floor(c.answer_rate_pct / 10)) };
  return rows;
}

/** Orders numbers as numbers and text as text; nulls last. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  const x = Number(a);
  const y = Number(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  return String(a).localeCompare(String(b));
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) as an ISO instant. */
const utcIso = (t: string) => (/Z$|[+-]\d\d:?\d\d$/.test(t) ? t : `${t.replace(' ', 'T')}Z`);

/** An instant as the zone's local `YYYY-MM-DD HH:mm` with its offset. */
function localTime(iso: string, zone: string): string {
  const d = DateTime.fromISO(iso, { setZone: true });
  const local = d.isValid ? d.setZone(zone) : null;
  return local && local.isValid ? `${local.toFormat('yyyy-MM-dd HH:mm')} (${offsetLabel(zone, local.toJSDate())})` : iso;
}
