import crypto from 'node:crypto';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `{webhook-id}.{webhook-timestamp}.{body}`, its HMAC-SHA256 under the secret's bytes (the
 * base64 after `whsec_`) is sent base64 as `v1,<signature>`. While a secret rotates, every
 * live secret signs, space-separated, so a receiver with either one verifies.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSec: number, body: string): string {
  return secrets.map((s) => {
    const key = Buffer.from(s.replace(/^whsec_/, ''), 'base64');
    return `v1,${crypto.createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64')}`;
  }).join(' ');
}

/**
 * Signed download links of delivered files: the path and its expiry, and an HMAC of both
 * under a key derived from the service's secret. Anyone holding the link may download the
 * file until it expires; nobody can make one for another file or a later expiry.
 */
export class LinkSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = crypto.createHmac('sha256', secret).update('callboard delivery links').digest();
  }

  private mac(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  /** A token for `file` (relative to the deliveries directory) valid until `expires`. */
  sign(file: string, expires: Date): string {
    const payload = Buffer.from(JSON.stringify({ f: file, e: Math.floor(expires.getTime() / 1000) })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The file a token names, or why it cannot be used. */
  verify(token: string, now: Date): { file: string } | { problem: 'invalid' | 'expired' } {
    const [payload, mac] = token.split('.');
    if (!payload || !mac || mac.length !== 43) return { problem: 'invalid' };
    const want = Buffer.from(this.mac(payload));
    if (!crypto.timingSafeEqual(want, Buffer.from(mac))) return { problem: 'invalid' };
    let body: { f?: unknown; e?: unknown };
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { f?: unknown; e?: unknown };
    } catch {
      return { problem: 'invalid' };
    }
    if (typeof body.f !== 'string' || typeof body.e !== 'number') return { problem: 'invalid' };
    if (body.e * 1000 <= now.getTime()) return { problem: 'expired' };
    return { file: body.f };
  }
}
