import type { SyncProgress } from '../sync/sync.ts';
import type { MetaDb } from '../meta/db.ts';
import type { Store } from '../store/duckdb.ts';
import { dataAsOf } from '../store/data-as-of.ts';

export interface Readiness {
  ready: boolean;
  store: 'ok' | 'error';
  /** The start of the last sync that finished (the data's freshness), if any. */
  data_as_of: string | null;
  last_sync: { status: string; started_at: string; ended_at: string | null; error: string | null } | null;
  /** Seconds the sync has been failing (since the first failure after the last success). */
  failing_for_sec: number;
  /** While no sync has finished: the running one's rows so far and the source's size. */
  first_sync: SyncProgress | null;
  message: string;
}

/**
 * For orchestrators: ready while the store answers and the sync has not been failing
 * for longer than `maxFailingSec`. A source that is down for a moment leaves the service
 * ready on its last good data; one down for longer takes it out of rotation.
 */
/** What a report answers (503) while no sync has finished. */
export function firstSyncMessage(p: SyncProgress | null): string {
  if (!p) return 'No sync has finished yet: the data is not there. Retry later, or see /readyz for the sync\'s state.';
  const rows = p.rows.toLocaleString('en');
  return `The first sync is in progress (${p.total ? `${rows} of about ${p.total.toLocaleString('en')}` : `${rows} so far`} rows).`;
}

/**
 * `details` adds the last sync run and its error text (which can name a source's host or a
 * path): for an admin's token only; anyone sees whether it is ready and why not.
 */
export async function readiness(
  store: Store, meta: MetaDb, now: Date, maxFailingSec: number, progress: SyncProgress | null = null, details = true, syncTimeoutSec = 3600,
): Promise<Readiness | Omit<Readiness, 'last_sync'>> {
  let asOf: string | null = null;
  let storeOk = true;
  try {
    asOf = await dataAsOf(store);
  } catch {
    storeOk = false;
  }
  const runs = await meta.selectFrom('job_runs').select(['status', 'started_at', 'ended_at', 'error'])
    .where('job', '=', 'sync').where('status', 'in', ['ok', 'failed']).orderBy('id', 'desc').limit(200).execute();
  const last = runs[0] ?? null;
  let failingSince: string | null = null;
  for (const r of runs) {
    if (r.status === 'ok') break;
    failingSince = r.started_at;
  }
  const failingFor = failingSince ? Math.max(0, Math.round((now.getTime() - Date.parse(failingSince)) / 1000)) : 0;
  // A run still going past its limit is failing too: a source that hangs is not a sync in progress.
  const running = await meta.selectFrom('job_runs').select(['started_at']).where('job', '=', 'sync').where('status', '=', 'running')
    .orderBy('id', 'asc').limit(1).executeTakeFirst();
  const runningFor = running ? Math.max(0, Math.round((now.getTime() - Date.parse(running.started_at)) / 1000)) : 0;
  const overdue = runningFor > syncTimeoutSec;
  const loaded = asOf !== null;
  const ready = storeOk && loaded && failingFor <= maxFailingSec && !overdue;
  const message = !storeOk ? 'the store does not answer'
    : overdue ? `the sync has been running for ${runningFor} s, past its limit of ${syncTimeoutSec} s (CALLBOARD_SYNC_TIMEOUT_SEC)`
    : !loaded ? firstSyncMessage(progress)
    : failingFor > maxFailingSec ? `the sync has been failing for ${failingFor} s (limit ${maxFailingSec} s)${details ? `: ${last?.error ?? ''}` : ''}`
      : failingFor > 0 ? `the sync is failing (${failingFor} s); serving the last good data` : 'ready';
  const answer = { ready, store: storeOk ? 'ok' as const : 'error' as const, data_as_of: asOf, failing_for_sec: failingFor, first_sync: loaded ? null : progress, message };
  return details ? { ...answer, last_sync: last } : answer;
}
