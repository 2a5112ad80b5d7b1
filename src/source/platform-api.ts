import { decodeJwt } from 'jose';
import type { PlatformSource } from './platform-url.ts';

// The connector for platforms that expose only an HTTP API: it logs in with email and
// password, refreshes the access token ahead of its expiry and on a 401, waits out 429s
// (Retry-After), retries 5xx with backoff, and pages through the campaigns and each
// campaign's number list. It only reads: src/sync/platform-sync.ts maps what it read onto
// the contract and loads it. Source URL: platform+https://EMAIL:PASSWORD@host[:port]/?account_id=N

/** How the client behaves under faults. */
export interface ClientOptions {
  /** Retries of a 5xx or network failure per request (429s wait and do not count). */
  retries?: number;
  /** Refresh the access token when it expires within this many seconds. */
  refreshAheadSec?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Longest Retry-After honoured, in seconds. */
  maxRetryAfterSec?: number;
  /** The longest one request may take, body included (ms): a platform that never answers fails the run. */
  requestTimeoutMs?: number;
}

export class PlatformError extends Error {}

/** HTTP client of the platform API with its token lifecycle and fault handling. */
export class PlatformClient {
  private access: string | null = null;
  private refreshToken: string | null = null;
  userName = '';
  readonly stats = { requests: 0, logins: 0, refreshes: 0, throttled: 0, retried: 0 };

  constructor(private readonly src: PlatformSource, private readonly opts: ClientOptions = {}) {}

  /** Aborts a request, its body included, once it has taken longer than the request timeout. */
  private deadline(): AbortSignal {
    return AbortSignal.timeout(this.opts.requestTimeoutMs ?? 300_000);
  }

  private sleep(ms: number): Promise<void> {
    return this.opts.sleep ? this.opts.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }

  private async post(path: string, body: unknown): Promise<Response> {
    this.stats.requests++;
    try {
      return await fetch(`${this.src.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: this.deadline() });
    } catch (err) {
      throw new PlatformError(`platform unreachable: ${(err as Error).message}`);
    }
  }

  private async login(): Promise<void> {
    this.stats.logins++;
    const res = await this.post('/api/accounts/login/', { email: this.src.email, password: this.src.password });
    const body = (await res.json().catch(() => ({}))) as { data?: { token?: { access?: string; refresh?: string }; user_data?: { first_name?: string; last_name?: string } }; message?: string };
    if (!res.ok || !body.data?.token?.access) throw new PlatformError(`platform login failed (${res.status}): ${body.message ?? 'no token'}`);
    this.access = body.data.token.access;
    this.refreshToken = body.data.token.refresh ?? null;
    this.userName = [body.data.user_data?.first_name, body.data.user_data?.last_name].filter(Boolean).join(' ');
  }

  private async refresh(): Promise<void> {
    if (this.refreshToken) {
      this.stats.refreshes++;
      const res = await this.post('/api/accounts/token/refresh/', { refresh: this.refreshToken });
      const body = (await res.json().catch(() => ({}))) as { access?: string };
      if (res.ok && body.access) {
        this.access = body.access;
        return;
      }
    }
    await this.login(); // the refresh token itself expired, or there was none
  }

  private expiresSoon(): boolean {
    if (!this.access) return true;
    const exp = decodeJwt(this.access).exp;
    return exp !== undefined && exp - Date.now() / 1000 < (this.opts.refreshAheadSec ?? 60);
  }

  /** A GET of the API as JSON, through token expiry, throttling and transient failures. */
  async get<T>(path: string): Promise<T> {
    let failures = 0;
    let refreshedOn401 = false;
    for (;;) {
      if (!this.access) await this.login();
      else if (this.expiresSoon()) await this.refresh();
      this.stats.requests++;
      let res: Response;
      try {
        res = await fetch(`${this.src.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.access}` }, signal: this.deadline() });
      } catch (err) {
        if (++failures > (this.opts.retries ?? 4)) throw new PlatformError(`platform unreachable: ${(err as Error).message}`);
        this.stats.retried++;
        await this.sleep(Math.min(30_000, 500 * 2 ** failures));
        continue;
      }
      if (res.ok) return (await res.json()) as T;
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 401 && !refreshedOn401) {
        refreshedOn401 = true;
        await this.refresh();
        continue;
      }
      if (res.status === 429) {
        this.stats.throttled++;
        const after = Number(res.headers.get('retry-after') ?? '1');
        await this.sleep(Math.min(this.opts.maxRetryAfterSec ?? 60, Number.isFinite(after) && after >= 0 ? after : 1) * 1000);
        continue;
      }
      if (res.status >= 500 && ++failures <= (this.opts.retries ?? 4)) {
        this.stats.retried++;
        await this.sleep(Math.min(30_000, 500 * 2 ** failures));
        continue;
      }
      throw new PlatformError(`platform GET ${path} answered ${res.status}`);
    }
  }

  /** Every item of a paginated list, page after page until has_next is false. */
  async all<T>(path: string, items: (body: Record<string, any>) => T[]): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const body = await this.get<Record<string, any>>(`${path}${path.includes('?') ? '&' : '?'}page=${page}`);
      out.push(...items(body));
      if (!body.pagination?.has_next) return out;
      if (page > 100_000) throw new PlatformError(`${path}: more than 100,000 pages`);
    }
  }
}

/** A campaign as the platform's HTTP API lists it. */
export interface ApiCampaign { id: number; name: string; services: string; description: string | null }
/** A number of a campaign's list, with its latest attempt. */
export interface ApiNumber { id: number; number: string | number; status: string; duration: number | null; playback: number | null; credit_consumed: number | string | null }

/** Everything the platform shows of the account: its user's name, its campaigns and their numbers. */
export interface PlatformSnapshot {
  userName: string;
  campaigns: ApiCampaign[];
  numbers: { campaign: ApiCampaign; n: ApiNumber }[];
  stats: PlatformClient['stats'];
}

/** Reads every campaign and every number of each campaign's list, page by page. */
export async function readPlatform(src: PlatformSource, opts: ClientOptions = {}): Promise<PlatformSnapshot> {
  const client = new PlatformClient(src, opts);
  const campaigns = await client.all<ApiCampaign>('/api/system/campaigns/', (b) => b.result?.['campaign-lists'] ?? []);
  const numbers: { campaign: ApiCampaign; n: ApiNumber }[] = [];
  for (const c of campaigns) {
    const list = await client.all<ApiNumber>(`/api/system/campaigns/number/${c.id}/`, (b) => b.data?.['number-lists'] ?? []);
    for (const n of list) numbers.push({ campaign: c, n });
  }
  return { userName: client.userName, campaigns, numbers, stats: client.stats };
}
