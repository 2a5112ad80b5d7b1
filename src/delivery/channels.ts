import nodemailer, { type Transporter } from 'nodemailer';
import dns from 'node:dns/promises';
import { signatureHeader } from './signing.ts';
import { privateHost } from './subscriptions.ts';
import type { WebhookSecret } from './subscriptions.ts';

/**
 * How one attempt ended: sent, worth retrying, never going to work, the receiver is gone
 * (410), or the mail server refused the message's size (it goes again with a link).
 */
export type Outcome = { ok: true } | { ok: false; retry: boolean; gone?: boolean; tooBig?: boolean; error: string };

export interface Mail {
  id: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  attachment: { filename: string; path: string; contentType: string } | null;
  late: boolean;
}

/**
 * E-mail through SMTP (nodemailer). The Message-ID is the delivery's id, the same on every
 * retry, so a mailbox or a receiving script can tell a retry from a new message.
 */
export class Mailer {
  private readonly transport: Transporter;

  constructor(url: string, private readonly from: string, private readonly domain = 'callboard') {
    this.transport = nodemailer.createTransport(url);
  }

  async send(m: Mail): Promise<Outcome> {
    try {
      await this.transport.sendMail({
        from: this.from, to: m.to, subject: m.subject, html: m.html, text: m.text,
        messageId: `<${m.id}@${this.domain}>`,
        headers: { 'X-Callboard-Delivery': m.id, ...(m.late ? { 'X-Callboard-Late': 'true' } : {}) },
        attachments: m.attachment ? [{ filename: m.attachment.filename, path: m.attachment.path, contentType: m.attachment.contentType }] : [],
      });
      return { ok: true };
    } catch (err) {
      const e = err as Error & { responseCode?: number };
      // 5xx is the server's final word (no such mailbox, refused); anything else may pass later.
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
      // 552 (or a SIZE the server advertised and nodemailer checked first): too big for this server.
      const tooBig = e.responseCode === 552 || /exceeds? .*size|size .*exceed/i.test(e.message);
      return { ok: false, retry: !permanent, tooBig, error: `${e.responseCode ? `SMTP ${e.responseCode}: ` : ''}${e.message}` };
    }
  }

  close(): void {
    this.transport.close();
  }
}

export interface WebhookCall {
  id: string;
  url: string;
  /** Loopback and private addresses are refused unless allowed (CALLBOARD_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  secrets: WebhookSecret[];
  body: string;
  timeoutMs: number;
  now: Date;
}

/**
 * One webhook attempt: a POST of the JSON body, signed by the Standard Webhooks scheme
 * with every live secret. Redirects are not followed (a 3xx is a failure to retry), and
 * an answer must come within the timeout. 2xx is delivered; 410 means the receiver is gone.
 */
export async function postWebhook(c: WebhookCall): Promise<Outcome> {
  const ts = Math.floor(c.now.getTime() / 1000);
  const live = c.secrets.filter((s) => s.until === null || Date.parse(s.until) > c.now.getTime()).map((s) => s.secret);
  try {
    // A name that resolves to a private address is refused at each attempt, not only when
    // the subscription was made: DNS can change in between.
    if (!c.allowPrivate) {
      const host = new URL(c.url).hostname;
      const addresses = await dns.lookup(host.replace(/^\[|\]$/g, ''), { all: true });
      const inside = addresses.find((a) => privateHost(a.address));
      if (privateHost(host) || inside) return { ok: false, retry: false, error: `the webhook's host ${host} resolves to a loopback or private address (${inside?.address ?? host})` };
    }
    const res = await fetch(c.url, {
      method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(c.timeoutMs),
      headers: {
        'content-type': 'application/json', 'user-agent': 'Callboard-Webhooks/1',
        'webhook-id': c.id, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader(live, c.id, ts, c.body),
      },
      body: c.body,
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    if (res.status === 410) return { ok: false, retry: false, gone: true, error: 'HTTP 410 Gone: the receiver unsubscribed' };
    return { ok: false, retry: true, error: `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}` };
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError') return { ok: false, retry: true, error: `no answer within ${c.timeoutMs / 1000} s` };
    return { ok: false, retry: true, error: `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` };
  }
}
