import fs from 'node:fs';
import type { MetaDb } from '../src/meta/db.ts';
import { readSourceIdentity, sourceMismatch, SourceMismatchError, type SourceIdentity } from '../src/source/identity.ts';
import { dataAsOf } from '../src/store/data-as-of.ts';
import { emptyStore, recordSource, storedSource } from '../src/store/source-record.ts';
import { SOURCE_TABLES } from '../src/source/contract.ts';
import { estimateSourceRows } from '../src/source/reader.ts';

import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';
import { connectSource, DEFAULT_SOURCE_TIMEOUTS, type SourceConnection, type SourceTimeouts } from '../src/source/connect.ts';
import { syncPlatform } from '../src/sync/platform-sync.ts';
import { parsePlatformUrl } from '../src/source/platform-url.ts';
import type { Store } from '../src/store/duckdb.ts';
import { syncOnce, type SyncOptions, type SyncProgress, type SyncResult } from '../src/sync/sync.ts';
import type { Config } from '../src/config/config.ts';

/** A SyncJob's options from the configuration: batch size, source timeouts and the watchdog. */
export function syncJobOptions(config: Config, rebuildFlag: string) {
  return { batchSize: config.syncBatchSize ?? undefined, rebuildFlag, timeouts: config.sourceTimeouts, timeoutMs: config.syncTimeoutSec * 1000 };
}

/**
 * The source sync as a recorded job: one run at a time per process, each run written
 * to job_runs (start, end, rows read/upserted/rejected per table, error). A run first
 * checks that the configured source is the one the store was built from (or records it
 * on a store that has none): a different one fails the run with SourceMismatchError
 * instead of merging two databases. A file at `rebuildFlag` (left by `callboard seed
 * --force`) or `reset()` empties the store first, so the run rebuilds it from scratch.
 *
 * A run that takes longer than `timeoutMs` is failed by a watchdog: its source connection
 * is closed, it loads nothing more, and the next run may start. `stop()` does the same to
 * the running one at shutdown.
 */
export class SyncJob {
  private readonly flight = new SingleFlight<SyncResult>();
  private current: SyncProgress | null = null;

  /** The running sync's rows so far and the source's size; null between runs. */
  get progress(): SyncProgress | null {
    return this.current;
  }

  constructor(
    private readonly store: Store,
    private readonly meta: MetaDb,
    private readonly sourceUrl: string,
    private readonly opts: SyncOptions & { rebuildFlag?: string; timeouts?: SourceTimeouts; timeoutMs?: number } = {},
  ) {}

  private abort: AbortController | null = null;
  /** The last run's loading, which a run given up leaves going until it reaches a check. */
  private loading: Promise<unknown> = Promise.resolve();

  /**
   * Settles once the last run's loading has stopped, a given-up one included: the store
   * must not be closed under it (closing a DuckDB connection mid-query hangs the process).
   */
  async idle(): Promise<void> {
    await this.loading.catch(() => undefined);
  }

  /** The longest a run may take before the watchdog fails it (ms). */
  get timeoutMs(): number {
    return this.opts.timeoutMs ?? 3_600_000;
  }

  /** Gives up the running sync, if any: it fails, and loads no further batch. */
  stop(reason = 'the service is shutting down'): void {
    this.abort?.abort(new Error(reason));
  }

  get busy(): boolean {
    return this.flight.busy;
  }

  /** Runs one sync, or joins the one already running (never two at once). */
  run(): Promise<SyncResult> {
    return this.flight.run(() => this.execute(false));
  }

  /** Empties the store and rebuilds it from the configured source (after a running sync ends). */
  async reset(): Promise<SyncResult> {
    while (this.flight.busy) await this.run().catch(() => undefined);
    return this.flight.run(() => this.execute(true));
  }

  /**
   * Throws SourceMismatchError when the configured source is not the one the store was
   * built from (see sourceMismatch); returns the configured source's identity. `open` is a
   * connection to it the caller holds already.
   */
  async checkSource(open?: SourceConnection): Promise<SourceIdentity> {
    const identity = await readSourceIdentity(this.sourceUrl, open, this.opts.timeouts);
    const problem = sourceMismatch(await storedSource(this.store), identity, this.store.file);
    if (problem) throw new SourceMismatchError(problem);
    return identity;
  }

  private async execute(reset: boolean): Promise<SyncResult> {
    return recordRun(this.meta, 'sync', async (run) => {
      const abort = new AbortController();
      this.abort = abort;
      const timeouts = this.opts.timeouts ?? DEFAULT_SOURCE_TIMEOUTS;
      // A platform that exposes only its HTTP API instead of its database.
      const source = this.sourceUrl.startsWith('platform+') ? null : connectSource(this.sourceUrl, { timeouts });
      const seconds = Math.round(this.timeoutMs / 1000);
      const watchdog = setTimeout(() => abort.abort(new Error(`the sync ran past CALLBOARD_SYNC_TIMEOUT_SEC (${seconds} s) and was stopped`)), this.timeoutMs);
      const given = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error), { once: true }));
      try {
        const loading = this.load(run, source, reset, timeouts, abort.signal);
        // A run given up still settles later (its source closed under it); idle() waits for that.
        loading.catch(() => undefined);
        this.loading = loading;
        return await Promise.race([loading, given]);
      } finally {
        clearTimeout(watchdog);
        const givenUp = abort.signal.aborted;
        abort.abort(new Error('the sync run has ended'));
        if (this.abort === abort) this.abort = null;
        this.current = null;
        // A run given up may be stuck on the source: its connection is closed without waiting.
        if (givenUp) void source?.close();
        else await source?.close();
      }
    });
  }

  private async load(run: string, source: SourceConnection | null, reset: boolean, timeouts: SourceTimeouts, signal: AbortSignal): Promise<SyncResult> {
    const flag = this.opts.rebuildFlag;
    if (reset || (flag && fs.existsSync(flag))) {
      await emptyStore(this.store);
      if (flag) fs.rmSync(flag, { force: true });
    }
    const identity = await this.checkSource(source ?? undefined);
    signal.throwIfAborted();
    // Recorded before the first row lands, so even a first load cut short knows its source.
    const stored = await storedSource(this.store);
    if (stored?.url !== identity.url || stored.fingerprint !== identity.fingerprint) await recordSource(this.store, identity);
    if (!source) return await syncPlatform(this.store, parsePlatformUrl(this.sourceUrl), { loadedBy: run, requestTimeoutMs: timeouts.statementMs });
    // The source's size is only shown while no sync has finished (the first-sync 503s and banner).
    const total = (await dataAsOf(this.store)) === null ? await estimateSourceRows(source, SOURCE_TABLES).catch(() => null) : null;
    const read = new Map<string, number>();
    this.current = { rows: 0, total };
    const once = () => syncOnce(this.store, source, {
      ...this.opts, loadedBy: run, signal,
      onBatch: (table, stats) => {
        read.set(table, stats.read);
        this.current = { rows: [...read.values()].reduce((a, b) => a + b, 0), total };
        this.opts.onBatch?.(table, stats);
      },
    });
    try {
      return await once();
    } catch (err) {
      // A load larger than the memory budget (a first sync of a large source) goes on
      // without DuckDB's limit rather than failing every minute; the batches committed
      // before stay, and the run's counts are those of the rest. The run says so.
      if (!(err instanceof Error) || !/Out of Memory Error/.test(err.message)) throw err;
      const rest = await this.store.withoutMemoryLimit(once);
      return Object.assign(rest, { over_budget: `went on without the memory limit after: ${err.message.split('\n')[0]}` });
    }
  }
}
