import { DateTime } from 'luxon';
import { sourceRows } from './fixture.ts';

/**
 * The reports recomputed in plain TypeScript from the source rows, written from
 * METRICS.md without looking at the SQL: the figures the API must match.
 */

interface Call {
  id: number; account_id: number; campaign_id: number | null; lead_id: number | null; agent_id: number | null;
  caller_id_id: number | null; direction: string; status: string; started: number; answered: boolean;
  talk_sec: number; wrap_sec: number; disposition_code: string | null;
}

export interface Filter {
  accounts: number[];
  from: number;
  to: number;
  tz: string;
  campaignId?: number;
  agentIds?: number[];
  teamId?: number;
}

/** Half away from zero on the exact fraction, via quotient and remainder. */
export function pct(num: number, den: number, digits: number, scale = 100): number {
  if (den === 0) return 0;
  const f = 10 ** digits;
  const scaled = BigInt(num) * BigInt(scale) * BigInt(f);
  let q = scaled / BigInt(den);
  const rem = scaled - q * BigInt(den);
  if (2n * rem >= BigInt(den)) q += 1n;
  return Number(q) / f;
}
export const pctStr = (num: number, den: number, digits: number, scale = 100) => pct(num, den, digits, scale).toFixed(digits);

export class Oracle {
  readonly calls: Call[];
  readonly leads: Record<string, any>[];
  readonly agents: Record<string, any>[];
  readonly dispositions: Record<string, any>[];
  readonly callerIds: Record<string, any>[];
  readonly campaigns: Record<string, any>[];
  private readonly conversion = new Set<string>();

  constructor(file: string) {
    this.calls = sourceRows(file, 'calls').map((r) => ({
      id: r.id, account_id: r.account_id, campaign_id: r.campaign_id, lead_id: r.lead_id, agent_id: r.agent_id,
      caller_id_id: r.caller_id_id, direction: r.direction, status: r.status, started: Date.parse(r.started_at),
      answered: r.answered_at !== null, talk_sec: r.talk_sec, wrap_sec: r.wrap_sec, disposition_code: r.disposition_code,
    }));
    this.leads = sourceRows(file, 'leads');
    this.agents = sourceRows(file, 'agents');
    this.dispositions = sourceRows(file, 'dispositions');
    this.callerIds = sourceRows(file, 'caller_ids');
    this.campaigns = sourceRows(file, 'campaigns');
    for (const d of this.dispositions) if (d.is_conversion) this.conversion.add(`${d.account_id}:${d.code}`);
  }

  isConversion(c: Call): boolean {
    return c.disposition_code !== null && this.conversion.has(`${c.account_id}:${c.disposition_code}`);
  }

  isDial(c: Call): boolean {
    return c.direction === 'outbound' && c.status !== 'blocked';
  }

  window(f: Filter, from = f.from, to = f.to): Call[] {
    const teamAgents = f.teamId === undefined ? null : new Set(this.agents.filter((a) => a.team_id === f.teamId).map((a) => a.id));
    return this.calls.filter((c) =>
      f.accounts.includes(c.account_id) && c.started >= from && c.started < to &&
      (f.campaignId === undefined || c.campaign_id === f.campaignId) &&
      (f.agentIds === undefined || (c.agent_id !== null && f.agentIds.includes(c.agent_id))) &&
      (teamAgents === null || (c.agent_id !== null && teamAgents.has(c.agent_id))));
  }

  dashboard(f: Filter) {
    const w = this.window(f);
    const dials = w.filter((c) => this.isDial(c));
    const answers = dials.filter((c) => c.answered);
    const talk = answers.reduce((s, c) => s + c.talk_sec, 0);
    return {
      total_dials: dials.length, total_answers: answers.length, answer_rate_pct: pctStr(answers.length, dials.length, 2),
      avg_talk_time_sec: pctStr(talk, answers.length, 1, 1), total_talk_time_sec: String(talk),
      unique_agents: new Set(dials.filter((c) => c.agent_id !== null).map((c) => c.agent_id)).size,
      pdpl_blocked_count: w.filter((c) => c.direction === 'outbound' && c.status === 'blocked').length,
    };
  }

  dispositionBreakdown(f: Filter) {
    const w = this.window(f).filter((c) => c.disposition_code !== null);
    const counts = new Map<string, { n: number; minAccount: number }>();
    for (const c of w) {
      const e = counts.get(c.disposition_code!) ?? { n: 0, minAccount: Infinity };
      e.n++;
      e.minAccount = Math.min(e.minAccount, c.account_id);
      counts.set(c.disposition_code!, e);
    }
    return [...counts.entries()].map(([code, e]) => {
      const d = this.dispositions.find((x) => x.account_id === e.minAccount && x.code === code)!;
      return { code, label: d.label, category: d.category, color: d.color, count: e.n, pct: pctStr(e.n, w.length, 2) };
    }).sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
  }

  agentPerformance(f: Filter) {
    const by = new Map<number, Call[]>();
    for (const c of this.window(f)) if (this.isDial(c) && c.agent_id !== null) by.set(c.agent_id, [...(by.get(c.agent_id) ?? []), c]);
    return [...by.entries()].map(([id, cs]) => {
      const a = this.agents.find((x) => x.id === id)!;
      const ans = cs.filter((c) => c.answered);
      const conv = cs.filter((c) => this.isConversion(c)).length;
      return {
        agent_id: id, name: a.name, username: a.username, dials: cs.length, answers: ans.length,
        avg_aht_sec: pct(ans.reduce((s, c) => s + c.talk_sec + c.wrap_sec, 0), ans.length, 0, 1),
        conversions: conv, conv_rate: pct(conv, ans.length, 2),
      };
    }).sort((a, b) => b.dials - a.dials || a.agent_id - b.agent_id);
  }

  private leadSet(f: Filter) {
    return this.leads.filter((l) => f.accounts.includes(l.account_id) && l.deleted_at === null &&
      Date.parse(l.created_at) >= f.from && Date.parse(l.created_at) < f.to && (f.campaignId === undefined || l.campaign_id === f.campaignId));
  }

  private leadFlags(f: Filter) {
    const flags = new Map<number, { dialed: boolean; connected: boolean; talked: boolean; disposed: boolean; converted: boolean }>();
    for (const c of this.window(f)) {
      if (c.lead_id === null) continue;
      const e = flags.get(c.lead_id) ?? { dialed: false, connected: false, talked: false, disposed: false, converted: false };
      const dial = this.isDial(c);
      e.dialed ||= dial;
      e.connected ||= dial && c.answered;
      e.talked ||= dial && c.talk_sec > 30;
      e.disposed ||= c.disposition_code !== null;
      e.converted ||= dial && this.isConversion(c);
      flags.set(c.lead_id, e);
    }
    return flags;
  }

  funnel(f: Filter) {
    const L = this.leadSet(f);
    const flags = this.leadFlags(f);
    const count = (k: 'dialed' | 'connected' | 'talked' | 'disposed' | 'converted') => L.filter((l) => flags.get(l.id)?.[k]).length;
    return [
      { stage: 'Total leads', count: L.length }, { stage: 'Dialed', count: count('dialed') }, { stage: 'Connected', count: count('connected') },
      { stage: 'Talked > 30s', count: count('talked') }, { stage: 'Disposed', count: count('disposed') }, { stage: 'Converted', count: count('converted') },
    ];
  }

  leadSourceAttribution(f: Filter) {
    const flags = this.leadFlags(f);
    const by = new Map<string, Record<string, any>[]>();
    for (const l of this.leadSet(f)) {
      const s = l.source ?? '(unknown)';
      by.set(s, [...(by.get(s) ?? []), l]);
    }
    return [...by.entries()].map(([source, ls]) => {
      const conv = ls.filter((l) => flags.get(l.id)?.converted).length;
      return {
        source, total_leads: ls.length, dialed_count: ls.filter((l) => flags.get(l.id)?.dialed).length,
        contacted_count: ls.filter((l) => flags.get(l.id)?.connected).length, conv_count: conv, conv_rate_pct: pctStr(conv, ls.length, 2),
      };
    }).sort((a, b) => b.total_leads - a.total_leads || (a.source < b.source ? -1 : 1));
  }

  callerIdHealth(f: Filter, now: Date) {
    const midnight = DateTime.fromJSDate(now, { zone: f.tz }).startOf('day');
    const today = this.window(f, midnight.toMillis(), midnight.plus({ days: 1 }).toMillis()).filter((c) => this.isDial(c));
    const w = this.window(f).filter((c) => this.isDial(c));
    return this.callerIds.filter((ci) => f.accounts.includes(ci.account_id)).map((ci) => {
      const cs = w.filter((c) => c.caller_id_id === ci.id);
      const ans = cs.filter((c) => c.answered);
      const short = ans.filter((c) => c.talk_sec < 10).length;
      const rejected = cs.filter((c) => c.status === 'rejected' || c.status === 'busy').length;
      let health = 'healthy';
      if (cs.length === 0) health = 'no_data';
      else if (cs.length >= 30 && (ans.length / cs.length < 0.1 || rejected / cs.length >= 0.3)) health = 'suspected_block';
      else if (ans.length / cs.length < 0.3 || short / cs.length > 0.4) health = 'warning';
      return {
        cid: ci.cid, display_name: ci.display_name, carrier: ci.carrier, cli_type: ci.cli_type, pool_status: ci.pool_status,
        cooldown_until: ci.cooldown_until === null ? null : new Date(Date.parse(ci.cooldown_until)).toISOString(),
        daily_cap: ci.daily_cap, total_calls: cs.length, answered_calls: ans.length, asr_pct: pct(ans.length, cs.length, 1),
        acd_sec: pct(ans.reduce((s, c) => s + c.talk_sec, 0), ans.length, 0, 1), short_calls: short,
        short_call_ratio_pct: pct(short, cs.length, 1), rejected_calls: rejected, health_status: health,
        health_calls_today: today.filter((c) => c.caller_id_id === ci.id).length,
      };
    }).sort((a, b) => b.total_calls - a.total_calls || (a.cid < b.cid ? -1 : 1));
  }

  heatmap(f: Filter) {
    const cells = new Map<string, { dials: number; answered: number }>();
    for (const c of this.window(f)) {
      if (!this.isDial(c)) continue;
      const d = DateTime.fromMillis(c.started, { zone: f.tz });
      const k = `${d.weekday % 7}:${d.hour}`;
      const e = cells.get(k) ?? { dials: 0, answered: 0 };
      e.dials++;
      if (c.answered) e.answered++;
      cells.set(k, e);
    }
    const out = [];
    for (let dow = 0; dow < 7; dow++) {
      for (let hour = 0; hour < 24; hour++) {
        const e = cells.get(`${dow}:${hour}`) ?? { dials: 0, answered: 0 };
        out.push({ day_of_week: dow, hour, dials: e.dials, answered: e.answered, answer_rate_pct: pct(e.answered, e.dials, 1) });
      }
    }
    return out;
  }

  timeSeries(f: Filter, groupBy: 'day' | 'week' | 'hour') {
    const label = (d: DateTime) =>
      groupBy === 'day' ? d.toFormat('yyyy-MM-dd') : groupBy === 'week' ? `${d.toFormat('kkkk')}-W${d.toFormat('WW')}` : d.toFormat('yyyy-MM-dd HH:00:00');
    const unit = groupBy === 'day' ? 'day' : groupBy === 'week' ? 'week' : 'hour';
    const buckets = new Map<string, { dials: number; answers: number; talk_sec: number; conversions: number }>();
    for (let d = DateTime.fromMillis(f.from, { zone: f.tz }).startOf(unit); d.toMillis() < f.to; d = d.plus({ [`${unit}s`]: 1 })) {
      buckets.set(label(d), { dials: 0, answers: 0, talk_sec: 0, conversions: 0 });
    }
    for (const c of this.window(f)) {
      if (!this.isDial(c)) continue;
      const e = buckets.get(label(DateTime.fromMillis(c.started, { zone: f.tz })))!;
      e.dials++;
      if (c.answered) {
        e.answers++;
        e.talk_sec += c.talk_sec;
      }
      if (this.isConversion(c)) e.conversions++;
    }
    return [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([bucket, e]) => ({ bucket, ...e }));
  }
}
