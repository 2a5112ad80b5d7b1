import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MetaDb, MetaSchema } from '../meta/db.ts';
import { latestRun, nextRun } from './schedule.ts';
import { fromRow, type Subscription } from './subscriptions.ts';

/** A run is "late" when it is sent this long after its time (or after a later one was missed). */
export const LATE_AFTER_MS = 5 * 60_000;

/** A new delivery id: the webhook-id and the Message-ID of every attempt of one delivery. */
export const deliveryId = () => `msg_${crypto.randomBytes(12).toString('hex')}`;

/**
 * Writes one outbox row per channel of a subscription for one occurrence. The rows are
 * unique by (subscription, occurrence, channel): writing them again does nothing, so an
 * occurrence is never queued twice, whoever writes it.
 */
export async function enqueue(db: Kysely<MetaSchema>, s: Subscription, occurrence: string, now: Date, opts: { late?: boolean; payload?: unknown } = {}): Promise<number> {
  let n = 0;
  for (const ch of s.channels) {
    const res = await db.insertInto('deliveries').values({
      id: deliveryId(), subscription_id: s.id, occurrence, channel: ch.id, late: opts.late ? 1 : 0, status: 'pending', attempts: 0,
      next_attempt_at: now.toISOString(), lease_until: null, claimed_by: null, first_attempt_at: null, last_attempt_at: null, last_error: null, sent_at: null,
      payload: opts.payload === undefined ? null : JSON.stringify(opts.payload), created_at: now.toISOString(),
    }).onConflict((oc) => oc.columns(['subscription_id', 'occurrence', 'channel']).doNothing()).executeTakeFirst();
    n += Number(res.numInsertedOrUpdatedRows ?? 0);
  }
  return n;
}

/**
 * Queues every report subscription whose next run has come, and moves its next run past
 * `now`, in one transaction per subscription: the run is queued exactly when the schedule
 * moves on. After downtime only the latest missed run is queued, marked late. The update
 * is conditional on the next run read, so two processes ticking at once queue it once.
 */
export async function enqueueDue(meta: MetaDb, now: Date): Promise<{ subscriptions: number; deliveries: number }> {
  const due = await meta.selectFrom('subscriptions').selectAll()
    .where('paused_at', 'is', null).where('kind', '=', 'report').where('next_run_at', '<=', now.toISOString())
    .orderBy('next_run_at').execute();
  let subscriptions = 0;
  let deliveries = 0;
  for (const row of due) {
    const s = fromRow(row);
    const scheduled = row.next_run_at!;
    const run = latestRun(s, now) ?? new Date(scheduled);
    const late = run.getTime() > Date.parse(scheduled) || now.getTime() - run.getTime() > LATE_AFTER_MS;
    const next = nextRun(s, now);
    await meta.transaction().execute(async (tx) => {
      const moved = await tx.updateTable('subscriptions').set({ next_run_at: next?.toISOString() ?? null })
        .where('id', '=', s.id).where('next_run_at', '=', scheduled).executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return;
      subscriptions++;
      deliveries += await enqueue(tx, s, run.toISOString(), now, { late });
    });
  }
  return { subscriptions, deliveries };
}
