import type { Store } from '../store/duckdb.ts';
import { sourceTable, type SourceTable } from '../source/contract.ts';
import { readPlatform, type ClientOptions, type PlatformClient } from '../source/platform-api.ts';
import type { PlatformSource } from '../source/platform-url.ts';
import type { SourceRecord } from '../source/reader.ts';
import { loadBatch } from './load.ts';
import { loadStatements } from './load-sql.ts';
import { createStage, fillStage } from './stage.ts';
import { markDataAsOf } from '../store/data-as-of.ts';
import type { SyncResult } from './sync.ts';

// A platform read through its HTTP API (src/source/platform-api.ts) mapped onto the
// contract: a campaign, a lead per number, and a call per number that was attempted (its
// latest attempt). The API carries no times or change marks, so each number's last seen
// state is kept as a fingerprint (api_fingerprints) and only numbers that changed are
// loaded, stamped with the time they were seen to change.


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
  const counts = await store.withWriteConnection(async (conn) => {
    await createStage(conn, table);
    await fillStage(conn, table, rows);
    return loadBatch(store, conn, table, loadStatements(table, { loadedFrom: 'platform', loadedBy }));
  });
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
  const { userName, campaigns, numbers, stats } = await readPlatform(src, opts);
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
    id: account, partner_id: null, auth_id: `platform-${account}`, name: userName || src.email, email: src.email, phone: null,
    is_active: true, timezone: 'UTC', created_at: now, updated_at: now,
  })].filter(() => seen('account', account, { name: userName, email: src.email }) !== null);

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

  const result: SyncResult & { api: PlatformClient['stats'] } = { tables: {}, read: 0, upserted: 0, rejected: 0, batches: 0, ms: 0, api: stats };
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
