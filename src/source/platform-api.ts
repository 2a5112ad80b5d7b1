import { decodeJwt } from 'jose';
import type { PlatformSource } from './platform-url.ts';
import { sourceTable, type SourceTable } from './contract.ts';
import type { SourceRecord } from './reader.ts';
import type { Store } from '../store/duckdb.ts';
import { loadStatements } from '../sync/load-sql.ts';
import { createStage, fillStage } from '../sync/stage.ts';
import { checkStage, markDataAsOf, runLoad, type SyncResult } from '../sync/sync.ts';

/**
 * The connector for platforms that expose only an HTTP API (the platform's HTTP API): log in with email
 * and password, refresh the access token ahead of its expiry and on a 401, wait out 429s
 * (Retry-After) and retry 5xx with backoff, page through the campaigns and each
 * campaign's number list, and map them onto the contract: a campaign, a lead per number,
 * and a call per number that was attempted (its latest attempt). The API carries no
 * times or change marks, so each number's last seen state is kept as a fingerprint and
 * only numbers that changed are loaded, stamped with the time they were seen to change.
 *
 * Source URL: platform+https://EMAIL:PASSWORD@host[:port]/?account_id=N
 */
export interface ClientOptions {
  /** Retries of a 5xx or network failure per request (429s wait and do not count). */
  retries?: number;
  /** Refresh the access token when it expires within this many seconds. */
  refreshAheadSec?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Longest Retry-After honoured, in seconds. */
  maxRetryAfterSec?: number;
}

export class PlatformError extends Error {}

/** HTTP client of the platform API with its token lifecycle and fault handling. */
export class PlatformClient {
  private access: string | null = null;
  private refreshToken: string | null = null;
  userName = '';
  readonly stats = { requests: 0, logins: 0, refreshes: 0, throttled: 0, retried: 0 };

  constructor(private readonly src: PlatformSource, private readonly opts: ClientOptions = {}) {}

  private sleep(ms: number): Promise<void> {
    return this.opts.sleep ? this.opts.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }

  private async post(path: string, body: unknown): Promise<Response> {
    this.stats.requests++;
    return fetch(`${this.src.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
        res = await fetch(`${this.src.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.access}` } });
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

interface ApiCampaign { id: number; name: string; services: string; description: string | null }
interface ApiNumber { id: number; number: string | number; status: string; duration: number | null; playback: number | null; credit_consumed: number | string | null }

const ANSWERED = new Set(['completed', 'hungup']);

/** A contract row as the JSON array text the staging expects (SQLite's text forms). */
function record(t: SourceTable, row: Record<string, unknown>): SourceRecord {
  const values = t.columns.map((c) => {
    const v = row[c.name];
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean') return v ? '1' : '0';
    return String(v);
  });
  return { json: JSON.stringify(values) };
}

async function load(store: Store, table: SourceTable, rows: SourceRecord[], loadedBy?: string): Promise<{ upserted: number; rejected: number }> {
  if (rows.length === 0) return { upserted: 0, rejected: 0 };
  const conn = store.writeConnection;
  await createStage(conn, table);
  await fillStage(conn, table, rows);
  const s = loadStatements(table, { loadedFrom: 'platform', loadedBy });
  const counts = await checkStage(conn, table, s);
  await runLoad(conn, s, counts, 'true', []);
  return { upserted: counts.upserted, rejected: counts.rejected };
}

/**
 * One incremental sync from the platform API into the store: the account, then every
 * campaign and number that changed since the last run. A failure part-way leaves what
 * was loaded (each table's batch is one transaction) and the fingerprints of the rest
 * unchanged, so the next run picks them up.
 */
export async function syncPlatform(store: Store, src: PlatformSource, opts: ClientOptions & { now?: () => Date; loadedBy?: string } = {}): Promise<SyncResult & { api: PlatformClient['stats'] }> {
  const started = Date.now();
  const now = (opts.now ?? (() => new Date()))().toISOString();
  const client = new PlatformClient(src, opts);
  const campaigns = await client.all<ApiCampaign>('/api/system/campaigns/', (b) => b.result?.['campaign-lists'] ?? []);
  const numbers: { campaign: ApiCampaign; n: ApiNumber }[] = [];
  for (const c of campaigns) {
    const list = await client.all<ApiNumber>(`/api/system/campaigns/number/${c.id}/`, (b) => b.data?.['number-lists'] ?? []);
    for (const n of list) numbers.push({ campaign: c, n });
  }

  await store.exec(`CREATE TABLE IF NOT EXISTS api_fingerprints (kind VARCHAR, id BIGINT, fingerprint VARCHAR, first_seen VARCHAR, PRIMARY KEY (kind, id))`);
  const known = new Map((await store.all(`SELECT kind, id, fingerprint, first_seen FROM api_fingerprints`)).map((r) => [`${String(r.kind)}:${String(r.id)}`, { fp: String(r.fingerprint), first: String(r.first_seen) }]));
  const changed: { kind: string; id: number; fp: string; first: string }[] = [];
  const seen = (kind: string, id: number, value: unknown) => {
    const fp = JSON.stringify(value);
    const k = known.get(`${kind}:${id}`);
    if (k && k.fp === fp) return null;
    const entry = { kind, id, fp, first: k?.first ?? now };
    changed.push(entry);
    return entry;
  };

  const account = src.accountId;
  const accounts = [record(sourceTable('accounts'), {
    id: account, partner_id: null, auth_id: `platform-${account}`, name: client.userName || src.email, email: src.email, phone: null,
    is_active: true, timezone: 'UTC', created_at: now, updated_at: now,
  })].filter(() => seen('account', account, { name: client.userName, email: src.email }) !== null);

  const campaignRows: SourceRecord[] = [];
  for (const c of campaigns) {
    const e = seen('campaign', c.id, c);
    if (!e) continue;
    campaignRows.push(record(sourceTable('campaigns'), {
      id: c.id, account_id: account, name: c.name, description: c.description, type: c.services === 'SMS' ? 'sms' : 'voice_broadcast',
      status: 'active', abandon_limit_pct: '3', created_at: e.first, updated_at: now, deleted_at: null,
    }));
  }
  const leadRows: SourceRecord[] = [];
  const callRows: SourceRecord[] = [];
  for (const { campaign, n } of numbers) {
    const e = seen('number', n.id, { ...n, campaign: campaign.id });
    if (!e) continue;
    leadRows.push(record(sourceTable('leads'), {
      id: n.id, account_id: account, campaign_id: campaign.id, phone: String(n.number), source: null, created_at: e.first, updated_at: now, deleted_at: null,
    }));
    if (n.status === 'not started') continue;
    const talk = n.duration ?? 0;
    callRows.push(record(sourceTable('calls'), {
      id: n.id, account_id: account, campaign_id: campaign.id, lead_id: n.id, agent_id: null, caller_id_id: null,
      direction: 'outbound', product: 'voice_api', from_number: null, to_number: String(n.number), origin: null, attribution: null,
      status: n.status, started_at: now, answered_at: ANSWERED.has(n.status) ? now : null,
      ended_at: new Date(Date.parse(now) + talk * 1000).toISOString(), talk_sec: ANSWERED.has(n.status) ? talk : 0, wrap_sec: 0,
      message_sec: null, playback_sec: n.playback, disposition_code: null, credits: String(n.credit_consumed ?? 0), cost: '0', updated_at: now,
    }));
  }

  const result: SyncResult & { api: PlatformClient['stats'] } = { tables: {}, read: 0, upserted: 0, rejected: 0, batches: 0, ms: 0, api: client.stats };
  for (const [name, rows] of [['accounts', accounts], ['campaigns', campaignRows], ['leads', leadRows], ['calls', callRows]] as const) {
    const r = await load(store, sourceTable(name), [...rows], opts.loadedBy);
    result.tables[name] = { read: rows.length, ...r };
    result.read += rows.length;
    result.upserted += r.upserted;
    result.rejected += r.rejected;
    if (rows.length) result.batches++;
  }
  // Fingerprints move only once their rows are in: a failure above re-reads them next run.
  if (changed.length) {
    await store.exec(`INSERT OR REPLACE INTO api_fingerprints
      SELECT e.kind, e.id, e.fp, e.first FROM (SELECT unnest(from_json($j, '[{"kind":"VARCHAR","id":"BIGINT","fp":"VARCHAR","first":"VARCHAR"}]')) AS e)`,
    { j: JSON.stringify(changed) });
  }
  await markDataAsOf(store, started);
  result.ms = Date.now() - started;
  return result;
}
