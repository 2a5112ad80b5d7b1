import type { Selectable } from 'kysely';
import { principalOf } from '../auth/users.ts';
import type { AlertStatesTable, MetaDb } from '../meta/db.ts';
import type { ReportDeclaration } from '../reports/declaration.ts';
import type { ReportEngine } from '../reports/engine.ts';
import type { Store } from '../store/duckdb.ts';
import { enqueue } from '../delivery/outbox.ts';
import type { AlertPayload } from '../delivery/alert-message.ts';
import { fromRow, type Subscription } from '../delivery/subscriptions.ts';
import { observe, type Observation, type Rule } from './rules.ts';

type State = AlertStatesTable['state'];

/**
 * The next state of a rule instance, and whether people hear of it:
 * - the condition holds: Normal or Resolved → Pending, and Firing once it has held for
 *   `pending_evaluations` evaluations in a row (notified); Firing stays Firing, with a
 *   reminder when `repeat_minutes` have passed since the last notice;
 * - it does not hold: Pending → Normal (quietly), Firing → Resolved (notified),
 *   Resolved → Normal;
 * - too few calls to judge is a state of its own, never Normal: entered from Firing it is
 *   notified (the alert can no longer say), otherwise quietly.
 */
export function transition(
  prev: { state: State; held: number; lastNotifiedAt: string | null },
  holds: Observation['holds'], rule: Pick<Rule, 'pending_evaluations' | 'repeat_minutes'>, now: Date,
): { state: State; held: number; notify: false | 'change' | 'reminder' } {
  if (holds === 'too_few_calls') return { state: 'too_few_calls', held: 0, notify: prev.state === 'firing' ? 'change' : false };
  if (!holds) {
    if (prev.state === 'firing') return { state: 'resolved', held: 0, notify: 'change' };
    return { state: 'normal', held: 0, notify: false };
  }
  if (prev.state === 'firing') {
    const due = prev.lastNotifiedAt === null || now.getTime() - Date.parse(prev.lastNotifiedAt) >= rule.repeat_minutes * 60_000;
    return { state: 'firing', held: prev.held + 1, notify: due ? 'reminder' : false };
  }
  const held = (prev.state === 'pending' ? prev.held : 0) + 1;
  if (held >= rule.pending_evaluations) return { state: 'firing', held, notify: 'change' };
  return { state: 'pending', held, notify: false };
}

/**
 * Evaluates every alert subscription (each minute): reads its rule's instances from the
 * reports as its owner, moves each instance's state, and queues a notification in the
 * outbox in the same transaction as the state it announces, so a state change is
 * announced exactly once, through the channels reports use.
 */
export class AlertEvaluator {
  private running: Promise<unknown> | null = null;

  constructor(private readonly o: { meta: MetaDb; store: Store; engine: ReportEngine; catalogue: readonly ReportDeclaration[]; now?: () => Date; log?: { warn(o: object, m: string): void } }) {}

  get busy(): boolean {
    return this.running !== null;
  }

  run(): Promise<{ alerts: number; notices: number }> {
    if (!this.running) this.running = this.evaluate().finally(() => { this.running = null; });
    return this.running as Promise<{ alerts: number; notices: number }>;
  }

  private async evaluate(): Promise<{ alerts: number; notices: number }> {
    const now = this.o.now?.() ?? new Date();
    const rows = await this.o.meta.selectFrom('subscriptions').selectAll().where('kind', '=', 'alert').where('paused_at', 'is', null).orderBy('id').execute();
    let notices = 0;
    for (const row of rows) {
      const s = fromRow(row);
      try {
        notices += await this.one(s, now);
      } catch (err) {
        this.o.log?.warn({ err, subscription: s.id }, 'alert evaluation failed');
      }
    }
    return { alerts: rows.length, notices };
  }

  private async one(s: Subscription, now: Date): Promise<number> {
    const who = await principalOf(this.o.meta, s.userId);
    if (!who) return 0;
    const rule = s.rule as unknown as Rule;
    const accountId = s.params.account_id === undefined ? null : Number(s.params.account_id);
    const seen = await observe(rule, { engine: this.o.engine, store: this.o.store, meta: this.o.meta, catalogue: this.o.catalogue, who, accountId, zone: s.zone, now });
    const states = new Map((await this.o.meta.selectFrom('alert_states').selectAll().where('subscription_id', '=', s.id).execute()).map((r) => [r.instance, r]));
    let notices = 0;
    for (const o of seen) {
      const prev: Selectable<AlertStatesTable> = states.get(o.instance) ?? { subscription_id: s.id, instance: o.instance, state: 'normal', held: 0, since: now.toISOString(), last_notified_at: null, notices: 0 };
      const next = transition({ state: prev.state, held: prev.held, lastNotifiedAt: prev.last_notified_at }, o.holds, rule, now);
      if (next.state === prev.state && next.held === prev.held && !next.notify && states.has(o.instance)) continue;
      await this.o.meta.transaction().execute(async (tx) => {
        const row = {
          state: next.state, held: next.held, since: next.state === prev.state ? prev.since : now.toISOString(),
          last_notified_at: next.notify ? now.toISOString() : prev.last_notified_at, notices: prev.notices + (next.notify ? 1 : 0),
        };
        await tx.insertInto('alert_states').values({ subscription_id: s.id, instance: o.instance, ...row })
          .onConflict((oc) => oc.columns(['subscription_id', 'instance']).doUpdateSet(row)).execute();
        if (next.notify) {
          const payload: AlertPayload = {
            rule: rule.type, instance: o.instance, title: o.title, state: next.state, previous: prev.state, reminder: next.notify === 'reminder',
            at: now.toISOString(), figures: o.figures, link: o.link,
          };
          // One notice per (instance, count): queued once, whoever evaluates.
          notices += await enqueue(tx, s, `${o.instance} #${row.notices}`, now, { payload });
        }
      });
    }
    return notices;
  }
}
