import type { Selectable } from 'kysely';
import { principalOf } from '../auth/users.ts';
import { processAlive } from '../meta/process-alive.ts';
import type { DeliveriesTable, MetaDb } from '../meta/db.ts';
import type { Store } from '../store/duckdb.ts';
import { dataAsOf } from '../store/data-as-of.ts';
import { postWebhook, type Mailer, type Outcome } from './channels.ts';
import { enqueueDue } from './outbox.ts';
import type { DeliveryRenderer, Rendered, RenderedFile } from './render.ts';
import type { LinkSigner } from './signing.ts';
import { fromRow, type Subscription } from './subscriptions.ts';
import { alertMessage, type AlertPayload } from './alert-message.ts';

export interface DeliveryOptions {
  meta: MetaDb;
  store: Store;
  renderer: DeliveryRenderer;
  links: LinkSigner;
  /** Null: e-mail channels fail with "no SMTP configured" (and are refused when created). */
  mailer: Mailer | null;
  /** Where people reach the service (the links in e-mails and webhooks). */
  publicUrl: string;
  /** Webhooks may reach loopback and private addresses (CALLBOARD_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivateWebhooks?: boolean;
  maxAttachBytes: number;
  linkTtlSec: number;
  webhookTimeoutMs?: number;
  /** Deliveries worked on at once. */
  concurrency?: number;
  /** Backoff of retries: full jitter over base × 2^attempt, capped; given up after giveUpMs. */
  backoff?: { baseMs: number; maxMs: number; giveUpMs: number };
  /** How long a claim on a row lasts (5 min); a worker that died leaves it to be retried after. */
  leaseMs?: number;
  now?: () => Date;
  random?: () => number;
  log?: { warn(o: object, m: string): void; error(o: object, m: string): void; info(o: object, m: string): void };
}

const DEFAULT_BACKOFF = { baseMs: 30_000, maxMs: 3_600_000, giveUpMs: 24 * 3_600_000 };

type Row = Selectable<DeliveriesTable>;

/**
 * Works the outbox: queues the subscriptions whose run has come (outbox.ts), then sends
 * every delivery that is due, retrying failures with exponential backoff and full jitter
 * for up to 24 h. A delivery keeps its id through every attempt (webhook-id, Message-ID);
 * a process killed mid-send leaves its row claimed, and it is sent again under the same
 * id once the claim lapses.
 */
export class DeliveryWorker {
  private running: Promise<unknown> | null = null;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly backoff: { baseMs: number; maxMs: number; giveUpMs: number };

  constructor(private readonly o: DeliveryOptions) {
    this.now = o.now ?? (() => new Date());
    this.random = o.random ?? Math.random;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** One tick: queue what is due, then send what is due. Overlapping calls share one run. */
  run(): Promise<{ queued: number; sent: number; failed: number; retrying: number }> {
    if (!this.running) this.running = this.tick().finally(() => { this.running = null; });
    return this.running as Promise<{ queued: number; sent: number; failed: number; retrying: number }>;
  }

  private async tick() {
    const { deliveries: queued } = await enqueueDue(this.o.meta, this.now());
    const counts = { queued, sent: 0, failed: 0, retrying: 0 };
    const subs = new Map<number, Subscription | null>();
    for (;;) {
      const rows = await this.claim(this.o.concurrency ?? 4);
      if (rows.length === 0) break;
      await Promise.all(rows.map(async (row) => {
        const result = await this.deliver(row, subs);
        counts[result]++;
      }));
    }
    return counts;
  }

  /**
   * Claims up to `n` due rows: pending and due, or held by a worker whose lease lapsed or
   * whose process is gone (killed mid-send: sent again under the same id, at once).
   */
  private async claim(n: number): Promise<Row[]> {
    const now = this.now().toISOString();
    const held = await this.o.meta.selectFrom('deliveries').selectAll().where('status', '=', 'sending').limit(1000).execute();
    const orphaned = held.filter((r) => (r.lease_until !== null && r.lease_until < now) || (r.claimed_by !== null && r.claimed_by !== process.pid && !processAlive(r.claimed_by)));
    const due = await this.o.meta.selectFrom('deliveries').selectAll()
      .where('status', '=', 'pending').where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at').limit(n).execute();
    const candidates = [...orphaned, ...due].slice(0, n);
    const claimed: Row[] = [];
    const until = new Date(this.now().getTime() + (this.o.leaseMs ?? 5 * 60_000)).toISOString();
    for (const r of candidates) {
      const res = await this.o.meta.updateTable('deliveries').set({ status: 'sending', lease_until: until, claimed_by: process.pid })
        .where('id', '=', r.id).where('status', '=', r.status).where((eb) => (r.lease_until === null ? eb('lease_until', 'is', null) : eb('lease_until', '=', r.lease_until)))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) claimed.push({ ...r, status: 'sending', lease_until: until, claimed_by: process.pid });
    }
    return claimed;
  }

  private async subscription(id: number, cache: Map<number, Subscription | null>): Promise<Subscription | null> {
    if (!cache.has(id)) {
      const row = await this.o.meta.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
      cache.set(id, row ? fromRow(row) : null);
    }
    return cache.get(id)!;
  }

  /** One attempt of one delivery, and what it leaves in the outbox. */
  private async deliver(row: Row, cache: Map<number, Subscription | null>): Promise<'sent' | 'failed' | 'retrying'> {
    const started = this.now();
    let outcome: Outcome;
    const s = await this.subscription(row.subscription_id, cache);
    const channel = s?.channels.find((c) => c.id === row.channel);
    try {
      if (!s || !channel) outcome = { ok: false, retry: false, error: 'the subscription or its channel was removed' };
      else outcome = await this.attempt(row, s, channel);
    } catch (err) {
      // Rendering failed (the store is being reopened, the export queue is full): retried.
      const e = err as Error & { statusCode?: number };
      outcome = { ok: false, retry: !(e.statusCode && e.statusCode >= 400 && e.statusCode < 500 && e.statusCode !== 429), error: e.message };
    }
    const first = row.first_attempt_at ?? started.toISOString();
    const attempts = row.attempts + 1;
    const base = { attempts, first_attempt_at: first, last_attempt_at: started.toISOString(), lease_until: null, claimed_by: null };
    if (outcome.ok) {
      await this.o.meta.updateTable('deliveries').set({ ...base, status: 'sent', sent_at: this.now().toISOString(), last_error: null }).where('id', '=', row.id).execute();
      return 'sent';
    }
    const expired = this.now().getTime() - Date.parse(first) >= this.backoff.giveUpMs;
    if (outcome.gone && s) await this.unsubscribe(s, row.channel);
    if (!outcome.retry || expired) {
      await this.o.meta.updateTable('deliveries').set({ ...base, status: outcome.gone ? 'gone' : 'failed', last_error: outcome.error }).where('id', '=', row.id).execute();
      this.o.log?.warn({ delivery: row.id, subscription: row.subscription_id, error: outcome.error }, 'delivery failed for good');
      return 'failed';
    }
    // Full jitter: anywhere from now to the capped exponential delay.
    const cap = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (attempts - 1));
    const wait = Math.floor(this.random() * cap);
    const next = new Date(Math.min(this.now().getTime() + wait, Date.parse(first) + this.backoff.giveUpMs));
    await this.o.meta.updateTable('deliveries').set({ ...base, status: 'pending', next_attempt_at: next.toISOString(), last_error: outcome.error }).where('id', '=', row.id).execute();
    return 'retrying';
  }

  /** A receiver answered 410: its channel is removed; a subscription left with none is paused. */
  private async unsubscribe(s: Subscription, channelId: string): Promise<void> {
    const channels = s.channels.filter((c) => c.id !== channelId);
    s.channels = channels;
    await this.o.meta.updateTable('subscriptions')
      .set({ channels: JSON.stringify(channels), ...(channels.length === 0 ? { paused_at: this.now().toISOString() } : {}) })
      .where('id', '=', s.id).execute();
    this.o.log?.info({ subscription: s.id, channel: channelId }, 'a webhook receiver answered 410: its channel is removed');
  }

  private linkFor(f: RenderedFile): { url: string; until: string } {
    const until = new Date(this.now().getTime() + this.o.linkTtlSec * 1000);
    return { url: `${this.o.publicUrl}/api/deliveries/file?t=${this.o.links.sign(f.rel, until)}`, until: until.toISOString() };
  }

  private async attempt(row: Row, s: Subscription, channel: Subscription['channels'][number]): Promise<Outcome> {
    if (channel.type === 'email' && !this.o.mailer) return { ok: false, retry: false, error: 'no SMTP server is configured (CALLBOARD_SMTP_URL)' };
    const late = row.late === 1;
    const alert = s.kind === 'alert' ? JSON.parse(row.payload ?? '{}') as AlertPayload : null;
    let render: (cap: number) => Promise<Rendered>;
    if (alert) render = async () => alertMessage(s, alert, this.o.publicUrl);
    else {
      const who = await principalOf(this.o.meta, s.userId);
      if (!who) return { ok: false, retry: false, error: 'the subscription\'s owner is disabled or removed' };
      const asOf = await dataAsOf(this.o.store);
      render = (cap) => this.o.renderer.render(s, new Date(row.occurrence), who, late, asOf, (f) => this.linkFor(f), cap);
    }
    // E-mail attaches up to the cap; a webhook always links to the file.
    const r = await render(channel.type === 'email' ? this.o.maxAttachBytes : -1);
    if (channel.type === 'email') {
      const attach = r.file && r.file.bytes <= this.o.maxAttachBytes ? { filename: r.file.filename, path: r.file.abs, contentType: r.file.contentType } : null;
      const sent = await this.o.mailer!.send({ id: row.id, to: channel.to, subject: r.subject, html: r.html, text: r.text, attachment: attach, late });
      // A mail server with a smaller limit than ours refused it: the same message with the
      // file as a signed link instead, never a cut attachment.
      if (!sent.ok && sent.tooBig && attach) {
        const linked = await render(-1);
        return this.o.mailer!.send({ id: row.id, to: channel.to, subject: linked.subject, html: linked.html, text: linked.text, attachment: null, late });
      }
      return sent;
    }
    const body = JSON.stringify({
      type: alert ? 'alert.notification' : 'report.delivered',
      timestamp: this.now().toISOString(),
      data: {
        subscription_id: s.id, name: s.name, occurrence: alert ? null : row.occurrence, late,
        ...(alert ? { alert } : {
          report: s.report, params: s.params, window: r.window, format: s.format,
          file: r.file ? { filename: r.file.filename, bytes: r.file.bytes, content_type: r.file.contentType, ...this.linkFor(r.file) } : null,
          // Small answers travel whole; a large one is in the file.
          body: r.body !== null && JSON.stringify(r.body).length <= 256_000 ? r.body : null,
        }),
      },
    });
    return postWebhook({ id: row.id, url: channel.url, allowPrivate: this.o.allowPrivateWebhooks ?? false, secrets: channel.secrets, body, timeoutMs: this.o.webhookTimeoutMs ?? 10_000, now: this.now() });
  }

  /** Sends a delivery again (the delivery log's redeliver): the same id, a new attempt now. */
  async redeliver(id: string): Promise<void> {
    await this.o.meta.updateTable('deliveries').set({ status: 'pending', next_attempt_at: this.now().toISOString(), lease_until: null, claimed_by: null, first_attempt_at: null })
      .where('id', '=', id).execute();
  }
}
