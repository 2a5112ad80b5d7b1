import { DateTime } from 'luxon';
import type { Principal } from '../auth/principal.ts';
import type { MetaDb } from '../meta/db.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { ReportEngine } from '../reports/engine.ts';
import type { Store } from '../store/duckdb.ts';
import { resolveScope } from '../reports/scope.ts';
import { ValidationError } from '../errors.ts';

/** The rules an alert can watch. */
export const RULE_TYPES = ['abandon_rate', 'caller_id_answer_rate', 'stale_sync', 'billing_mismatch'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

/** A rule as stored: its type, thresholds, and how it notifies. */
export interface Rule {
  type: RuleType;
  /** Consecutive evaluations the condition must hold before it fires (Pending until then). */
  pending_evaluations: number;
  /** While firing, a reminder at most this often (minutes). */
  repeat_minutes: number;
  /** abandon_rate: warning levels (%), usually below each campaign's limit, which is a level too. */
  levels?: number[];
  /** abandon_rate: answered dials in the window; caller_id_answer_rate: dials today. Fewer is "too few calls". */
  min_calls?: number;
  /** caller_id_answer_rate: today's answer rate below baseline × factor fires. */
  factor?: number;
  /** caller_id_answer_rate: dials the 7-day baseline needs to be a baseline. */
  baseline_min_calls?: number;
  /** stale_sync: minutes of failing sync before it fires. */
  minutes?: number;
}

export const RULE_DEFAULTS: Record<RuleType, Partial<Rule>> = {
  abandon_rate: { levels: [2.5, 2.8], min_calls: 100 },
  caller_id_answer_rate: { factor: 0.5, min_calls: 30, baseline_min_calls: 100 },
  stale_sync: { minutes: 30 },
  billing_mismatch: {},
};

/** One rule instance's reading at one evaluation: it holds, it does not, or there are too few calls to judge. */
export interface Observation {
  instance: string;
  title: string;
  holds: boolean | 'too_few_calls';
  figures: [string, string][];
  link: string | null;
}

export interface RuleContext {
  engine: ReportEngine;
  store: Store;
  meta: MetaDb;
  catalogue: readonly ReportDeclaration[];
  who: Principal;
  /** account_id narrows the scope, as in the reports. */
  accountId: number | null;
  zone: string;
  now: Date;
}

/** Checks a rule as given, filling its defaults; every problem names its field (`rule.min_calls`). */
export function checkRule(raw: unknown): Rule {
  const errors: Record<string, string[]> = {};
  const r = (raw ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || !RULE_TYPES.includes(r.type as RuleType)) {
    throw new ValidationError({ 'rule.type': [`The rule type must be one of: ${RULE_TYPES.join(', ')}.`] });
  }
  const type = r.type as RuleType;
  const rule: Rule = { type, pending_evaluations: 1, repeat_minutes: 60, ...RULE_DEFAULTS[type] };
  const allowed = new Set(['type', 'pending_evaluations', 'repeat_minutes', ...Object.keys(RULE_DEFAULTS[type])]);
  const num = (k: keyof Rule, min: number, max: number, int: boolean) => {
    if (r[k] === undefined) return;
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) errors[`rule.${k}`] = [`The ${k} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max}.`];
    else (rule as unknown as Record<string, unknown>)[k] = v;
  };
  for (const k of Object.keys(r)) if (!allowed.has(k)) errors[`rule.${k}`] = [`The ${k} field does not apply to a ${type} rule.`];
  num('pending_evaluations', 1, 60, true);
  num('repeat_minutes', 1, 10_080, true);
  num('min_calls', 0, 1_000_000, true);
  num('factor', 0.01, 1, false);
  num('baseline_min_calls', 1, 1_000_000, true);
  num('minutes', 1, 10_080, true);
  if (r.levels !== undefined) {
    if (!Array.isArray(r.levels) || r.levels.length > 5 || !r.levels.every((x) => typeof x === 'number' && x > 0 && x < 100)) errors['rule.levels'] = ['The levels must be up to five percentages between 0 and 100.'];
    else rule.levels = [...(r.levels as number[])].sort((a, b) => a - b);
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return rule;
}

const pct = (v: number) => `${v.toFixed(2)} %`;

/** The alert's account as a report query's `account_id`, when the report takes one. */
const accountQuery = (ctx: RuleContext, decl: ReportDeclaration): Record<string, string> =>
  ctx.accountId !== null && decl.params.includes('account_id') ? { account_id: String(ctx.accountId) } : {};

/** Runs a catalogue report as the alert's owner and returns its JSON answer. */
async function report(ctx: RuleContext, family: string, name: string, query: Record<string, string>): Promise<any> {
  const decl = ctx.catalogue.find((d) => d.family === family && d.name === name)!;
  return ctx.engine.body(await ctx.engine.prepare(decl, { ...query, ...accountQuery(ctx, decl) }, ctx.who));
}

/**
 * Reads a rule's instances now, from the catalogue's reports (the same figures the API
 * and the console show):
 * - abandon_rate: per dialled campaign, the rolling-window rate of the abandon-rate report
 *   against each warning level and the campaign's limit (one instance each);
 * - caller_id_answer_rate: per caller ID, today's answer rate (local day in the alert's
 *   zone) against its trailing 7-day rate, from caller-id-health;
 * - stale_sync: whether the sync has been failing for longer than `minutes`;
 * - billing_mismatch: per account, mismatches in the reconciliation of the last month
 *   that has ended.
 */
export async function observe(rule: Rule, ctx: RuleContext): Promise<Observation[]> {
  switch (rule.type) {
    case 'abandon_rate': return abandonRate(rule, ctx);
    case 'caller_id_answer_rate': return callerIds(rule, ctx);
    case 'stale_sync': return staleSync(rule, ctx);
    case 'billing_mismatch': return billing(ctx);
  }
}

async function abandonRate(rule: Rule, ctx: RuleContext): Promise<Observation[]> {
  const accounts = await resolveScope(ctx.store, ctx.who, ctx.accountId);
  const campaigns = await ctx.store.all(
    `SELECT id, name FROM campaigns WHERE list_contains($ids, account_id) AND deleted_at IS NULL AND type NOT IN ('sms', 'inbound') ORDER BY id`, { ids: accounts },
  );
  const out: Observation[] = [];
  // Every campaign's rate from one query of the report (ReportEngine.batch).
  const decl = ctx.catalogue.find((d) => d.family === 'telesales' && d.name === 'abandon-rate')!;
  const bodies = await ctx.engine.batch(decl, accountQuery(ctx, decl), ctx.who, campaigns.map((c) => Number(c.id)));
  for (const c of campaigns) {
    const body = bodies.get(Number(c.id)) as { data: Record<string, unknown> } | undefined;
    if (!body) continue;
    const cur = body.data.current as { attempts_total: number; attempts_abandoned: number; abandon_rate_pct: number | null; limit_pct: number | string };
    const limit = Number(cur.limit_pct);
    const rate = cur.abandon_rate_pct === null ? null : Number(cur.abandon_rate_pct);
    const few = Number(cur.attempts_total) < (rule.min_calls ?? 0) || rate === null;
    // Every level the rule names, and the campaign's own limit: a level at or above the
    // limit is watched too, never dropped in silence.
    const levels = [...new Set([...(rule.levels ?? []), limit])].sort((a, b) => a - b);
    for (const level of levels) {
      const isLimit = level === limit;
      out.push({
        instance: `campaign ${c.id} ${isLimit ? 'limit' : 'warning'} ${level}`,
        title: `Abandon rate of ${String(c.name)} ${isLimit ? 'at its limit' : level < limit ? 'near its limit' : 'past its limit'} (${level} %)`,
        holds: few ? 'too_few_calls' : rate! >= level,
        figures: [
          ['Campaign', `${String(c.name)} (${c.id})`], ['Abandon rate', rate === null ? 'none' : pct(rate)], [isLimit ? 'Limit' : 'Warning level', `${level} %`],
          ['Limit', `${limit} %`], ['Answered dials', String(cur.attempts_total)], ['Abandoned', String(cur.attempts_abandoned)], ['Fewest calls to judge', String(rule.min_calls ?? 0)],
        ],
        link: `/console/compliance?campaign_id=${c.id}`,
      });
    }
  }
  return out;
}

async function callerIds(rule: Rule, ctx: RuleContext): Promise<Observation[]> {
  const today = DateTime.fromJSDate(ctx.now, { zone: ctx.zone }).startOf('day');
  const q = (from: DateTime, to: DateTime) => ({ date_from: from.toISODate()!, date_to: to.toISODate()!, timezone: ctx.zone });
  const [now, base] = await Promise.all([
    report(ctx, 'telesales', 'caller-id-health', q(today, today)),
    report(ctx, 'telesales', 'caller-id-health', q(today.minus({ days: 7 }), today.minus({ days: 1 }))),
  ]);
  const baseline = new Map((base.data as Record<string, any>[]).map((r) => [String(r.cid), r]));
  const out: Observation[] = [];
  for (const r of now.data as Record<string, any>[]) {
    const b = baseline.get(String(r.cid));
    const dials = Number(r.total_calls), answered = Number(r.answered_calls);
    const bDials = Number(b?.total_calls ?? 0), bAnswered = Number(b?.answered_calls ?? 0);
    const few = dials < (rule.min_calls ?? 0) || bDials < (rule.baseline_min_calls ?? 1);
    const rate = dials > 0 ? (answered * 100) / dials : 0;
    const bRate = bDials > 0 ? (bAnswered * 100) / bDials : 0;
    out.push({
      instance: `caller id ${String(r.cid)}`,
      title: `Answer rate of caller ID ${String(r.cid)} below its 7-day baseline`,
      holds: few ? 'too_few_calls' : rate < bRate * (rule.factor ?? 0.5),
      figures: [
        ['Caller ID', String(r.cid)], ['Answer rate today', `${pct(rate)} (${answered} of ${dials})`], ['7-day baseline', `${pct(bRate)} (${bAnswered} of ${bDials})`],
        ['Fires below', pct(bRate * (rule.factor ?? 0.5))], ['Fewest calls to judge', `${rule.min_calls} today, ${rule.baseline_min_calls} in the baseline`],
      ],
      link: `/console/telesales?date_from=${today.toISODate()}&date_to=${today.toISODate()}&timezone=${encodeURIComponent(ctx.zone)}`,
    });
  }
  return out;
}

async function staleSync(rule: Rule, ctx: RuleContext): Promise<Observation[]> {
  const lastOk = await ctx.meta.selectFrom('job_runs').select(['ended_at']).where('job', '=', 'sync').where('status', '=', 'ok').orderBy('started_at', 'desc').limit(1).executeTakeFirst();
  const lastFailed = await ctx.meta.selectFrom('job_runs').select(['ended_at', 'error']).where('job', '=', 'sync').where('status', '=', 'failed').orderBy('started_at', 'desc').limit(1).executeTakeFirst();
  const okAt = lastOk?.ended_at ? Date.parse(lastOk.ended_at) : null;
  const failing = lastFailed?.ended_at && (okAt === null || Date.parse(lastFailed.ended_at) > okAt);
  const since = okAt ?? (lastFailed?.ended_at ? Date.parse(lastFailed.ended_at) : ctx.now.getTime());
  const minutes = Math.floor((ctx.now.getTime() - since) / 60_000);
  return [{
    instance: 'sync',
    title: 'The source sync is failing',
    holds: Boolean(failing) && minutes >= (rule.minutes ?? 30),
    figures: [['Last good sync', lastOk?.ended_at ?? 'never'], ['Failing for', failing ? `${minutes} min` : 'not failing'], ['Fires after', `${rule.minutes} min`], ['Last error', lastFailed?.error ?? 'none']],
    link: null,
  }];
}

async function billing(ctx: RuleContext): Promise<Observation[]> {
  // The last month that has ended everywhere (UTC-12 is the last zone to finish a month).
  const month = DateTime.fromJSDate(ctx.now, { zone: 'Etc/GMT+12' }).startOf('month').minus({ months: 1 }).toFormat('yyyy-MM');
  const body = await report(ctx, 'billing', 'reconciliation', { month });
  const rows = body.data as { account_id: number; name: string; reconciliation: Record<string, { count: number }> & { status: string } }[];
  return rows.map((r) => {
    const rec = r.reconciliation;
    const mismatches = rec.usage_without_record.count + rec.record_without_usage.count + rec.credits_differ.count;
    return {
      instance: `account ${r.account_id} ${month}`,
      title: `Billing mismatches in ${month} for ${r.name}`,
      holds: mismatches > 0,
      figures: [
        ['Month', month], ['Account', `${r.name} (${r.account_id})`], ['Usage without a record', String(rec.usage_without_record.count)],
        ['Records without usage', String(rec.record_without_usage.count)], ['Credits differ', String(rec.credits_differ.count)],
      ],
      link: `/console/billing?month=${month}`,
    };
  });
}
