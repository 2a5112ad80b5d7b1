import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// Before @duckdb/node-api: it configures DuckDB's allocator, which reads it as it loads.
import './allocator.ts';
import {
  BIGINT, BOOLEAN, DOUBLE, DuckDBConnection, DuckDBInstance, LIST, VARCHAR, listValue,
  type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { retryOutOfMemory } from './out-of-memory.ts';
import { rollupMacros } from './rollup-defs.ts';
import { readSql, sqlDir } from './sql-files.ts';

/** A value a query may bind: numbers bind as BIGINT when integral, lists as LIST(BIGINT). */
export type Param = string | number | boolean | null | readonly number[];
export type Params = Readonly<Record<string, Param>>;
/** Declared types for parameters that may be null (DuckDB cannot infer a NULL's type). */
export type ParamTypes = Readonly<Record<string, 'bigint' | 'varchar' | 'double' | 'boolean' | 'bigint[]'>>;
export type ResultRow = Record<string, unknown>;

const TYPE_OF: Record<string, DuckDBType> = { bigint: BIGINT, varchar: VARCHAR, double: DOUBLE, boolean: BOOLEAN, 'bigint[]': LIST(BIGINT) };

/** The named parameters (`$name`) a SQL text uses; DuckDB refuses bindings it does not use. */
export function sqlParamNames(text: string): Set<string> {
  const names = new Set<string>();
  // One left-to-right pass, so an apostrophe in a comment never opens a string.
  const withoutStrings = text.replace(/'(?:[^']|'')*'|--[^\n]*/g, ' ');
  for (const m of withoutStrings.matchAll(/\$([a-z_][a-z0-9_]*)/gi)) names.add(m[1]);
  return names;
}

function bindings(text: string, params: Params, types: ParamTypes): { values: Record<string, DuckDBValue>; types: Record<string, DuckDBType> } {
  const values: Record<string, DuckDBValue> = {};
  const t: Record<string, DuckDBType> = {};
  for (const name of sqlParamNames(text)) {
    if (!(name in params)) throw new Error(`query parameter $${name} was not provided`);
    const v = params[name];
    const declared = types[name];
    if (Array.isArray(v)) {
      values[name] = listValue(v.map((x) => BigInt(x)));
      t[name] = LIST(BIGINT);
    } else if (v === null) {
      values[name] = null;
      t[name] = TYPE_OF[declared ?? 'varchar'];
    } else if (typeof v === 'number') {
      const integral = Number.isInteger(v) && declared !== 'double';
      values[name] = integral ? BigInt(v) : v;
      t[name] = integral ? BIGINT : DOUBLE;
    } else {
      values[name] = v as string | boolean;
      t[name] = typeof v === 'boolean' ? BOOLEAN : VARCHAR;
    }
  }
  return { values, types: t };
}

/** A date-time a query binds: `2026-11-24 05:00:00.000`, with a T or a Z, or a bare date. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?Z?)?$/;

/**
 * Whether every date-time string the SQL binds falls on a 15-minute UTC slot boundary (a
 * bare date is midnight). A string that starts like a date but has any other form (an
 * offset, say) counts as off a boundary, so the query keeps the macros that count
 * partial slots.
 */
export function slotAligned(text: string, params: Params): boolean {
  for (const name of sqlParamNames(text)) {
    const v = params[name];
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) continue;
    const m = DATE_TIME.exec(v);
    if (!m) return false;
    const [, , , , , min = '00', sec = '00', frac = '0'] = m;
    if (Number(min) % 15 !== 0 || Number(sec) !== 0 || Number(frac) !== 0) return false;
  }
  return true;
}

/** Plain JS rows: BIGINT counts become numbers (they stay far below 2^53 here). */
function plain(rows: Record<string, unknown>[]): ResultRow[] {
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      const v = r[k];
      if (typeof v === 'bigint') r[k] = Number(v);
    }
  }
  return rows;
}

export interface StoreOptions {
  /** Pooled reader connections (3). */
  readers?: number;
  threads?: number;
  /** DuckDB's memory limit in bytes (its buffer pool: cached blocks, sorts, joins); DuckDB's own default (80 % of the machine) when absent. */
  memoryLimit?: number;
  /** Where DuckDB spills what does not fit in its memory limit. */
  tempDir?: string;
  /** DuckDB's memory limit in bytes while a first load writes its tables and while it rebuilds the roll-ups (see withFirstLoadLimit); memoryLimit when absent. */
  firstLoadLimits?: { load: number; rebuild: number };
}

/** DuckDB's settings for an instance. */
function instanceSettings(opts: StoreOptions): Record<string, string> {
  const s: Record<string, string> = {};
  if (opts.threads) s.threads = String(opts.threads);
  if (opts.memoryLimit) s.memory_limit = `${Math.floor(opts.memoryLimit / 1024 / 1024)}MiB`;
  if (opts.tempDir) s.temp_directory = opts.tempDir;
  return s;
}

/**
 * The analytical store: one DuckDB file. The process that opens it is its only writer
 * (DuckDB allows one read-write process); reads run on a small pool of connections so a
 * sync never blocks a report.
 */
export class Store {
  private readers: DuckDBConnection[] = [];
  /** Readers whose search path puts schema `aligned` first (sql/macros/3-rollups.sql): see allWindowed. */
  private alignedReaders: DuckDBConnection[] = [];
  private next = 0;
  /** Queries running right now: closing under one hangs the native layer for good. */
  private readonly running = new Set<Promise<unknown>>();
  private fatalError: Error | null = null;
  /** Writes this process has committed (it is the store's only writer): what memo() keys on. */
  private writes = 0;
  private readonly memos = new Map<string, Promise<unknown>>();
  private memoAt = 0;
  /** DuckDB's memory limit in force (see withMemoryLimit); undefined when none is configured. */
  private memoryLimit: number | undefined;

  private constructor(
    readonly file: string, private instance: DuckDBInstance, private writer: DuckDBConnection,
    private readonly opts: StoreOptions,
  ) {
    this.memoryLimit = opts.memoryLimit;
  }

  /**
   * The error that invalidated the database (a checkpoint that could not be written on a
   * full disk, say), or null. Once DuckDB has invalidated it, every query fails until the
   * file is opened again: see reopen().
   */
  get fatal(): Error | null {
    return this.fatalError;
  }

  /**
   * A read kept until the next write this process commits: DuckDB allows one writing
   * process, so nothing else can change what it read. For the small reads every request
   * makes (the data version, the caller's accounts), not for reports.
   */
  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.memoAt !== this.writes || this.memos.size > 10_000) {
      this.memos.clear();
      this.memoAt = this.writes;
    }
    let p = this.memos.get(key) as Promise<T> | undefined;
    if (!p) {
      p = compute();
      this.memos.set(key, p);
      p.catch(() => this.memos.delete(key));
    }
    return p;
  }

  /** Notes an error that leaves the database unusable; every query path passes its errors here. */
  private notice(err: unknown): void {
    if (!this.fatalError && err instanceof Error && /FATAL Error|database has been invalidated/i.test(err.message)) this.fatalError = err;
  }

  /** Runs `p`, noting a fatal error before passing it on. */
  private async watched<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      this.notice(err);
      throw err;
    }
  }

  /**
   * Runs work that may write, noting a fatal error; afterwards (even when it failed part
   * way) what memo() kept is stale.
   */
  private async writing<T>(p: Promise<T>): Promise<T> {
    try {
      return await this.watched(p);
    } finally {
      this.writes++;
    }
  }

  /**
   * Opens the file again after a fatal error: what is left of the old instance is closed,
   * and DuckDB replays the write-ahead log, so every committed transaction is there and
   * the one that failed is not. Throws (and stays fatal) while the cause remains (the
   * disk still full): call it again later. Queries still running on the old connections
   * are stopped first (stopRunning).
   */
  async reopen(): Promise<void> {
    if (this.running.size) await this.stopRunning([...this.readers, ...this.alignedReaders, this.writer]);
    for (const c of [...this.readers, ...this.alignedReaders, this.writer]) {
      try {
        c.closeSync();
      } catch {
        // already unusable
      }
    }
    try {
      this.instance.closeSync();
    } catch {
      // already unusable
    }
    this.readers = [];
    this.alignedReaders = [];
    const instance = await DuckDBInstance.create(this.file, instanceSettings(this.opts));
    this.instance = instance;
    this.writer = await Store.connectUtc(instance);
    // A first statement proves the file readable before the store is declared healed.
    await this.writer.run(`SELECT count(*) FROM schema_migrations`);
    await this.connectReaders();
    this.fatalError = null;
    this.writes++;
  }

  /** Opens (creating if needed) the store and applies pending migrations from sql/schema. */
  static async open(file: string, opts: StoreOptions = {}): Promise<Store> {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file, instanceSettings(opts));
    } catch (err) {
      const msg = (err as Error).message;
      if (/lock/i.test(msg)) {
        throw new StoreLockedError(`the store ${file} is open in another process (DuckDB allows one writer): ${msg.split('\n')[0]}`);
      }
      throw err;
    }
    const writer = await Store.connectUtc(instance);
    const store = new Store(file, instance, writer, opts);
    await store.migrate();
    await store.connectReaders();
    return store;
  }

  /** The pool of readers, and as many that resolve names in schema `aligned` first. */
  private async connectReaders(): Promise<void> {
    for (let i = 0; i < (this.opts.readers ?? 3); i++) {
      this.readers.push(await Store.connectUtc(this.instance));
      const aligned = await Store.connectUtc(this.instance);
      await aligned.run(`SET search_path = 'aligned,main'`);
      this.alignedReaders.push(aligned);
    }
  }

  /** Every connection works in UTC; local time appears only where a report converts it. */
  private static async connectUtc(instance: DuckDBInstance): Promise<DuckDBConnection> {
    const c = await instance.connect();
    await c.run(`SET TimeZone = 'UTC'`);
    return c;
  }

  private async migrate(): Promise<void> {
    await this.writer.run(`CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP DEFAULT now())`);
    const done = new Set((await this.all(`SELECT name FROM schema_migrations`, {}, {}, this.writer)).map((r) => String(r.name)));
    const files = fs.readdirSync(path.join(sqlDir, 'schema')).filter((f) => f.endsWith('.sql')).sort();
    for (const f of files) {
      if (done.has(f)) continue;
      try {
        // File names are [0-9a-z_].sql: safe as a literal.
        await this.transaction([readSql(`schema/${f}`), `INSERT INTO schema_migrations (name) VALUES ('${f.replace(/'/g, "''")}')`]);
      } catch (err) {
        throw new Error(`migration ${f} failed: ${(err as Error).message}`);
      }
    }
    // Macros are code, not data: every start replaces them (sql/macros, in file order,
    // after the ones built from the roll-ups' definitions), so edits take effect.
    await this.writer.run(rollupMacros());
    for (const f of fs.readdirSync(path.join(sqlDir, 'macros')).filter((x) => x.endsWith('.sql')).sort()) {
      await this.writer.run(readSql(`macros/${f}`));
    }
  }

  private reader(): DuckDBConnection {
    const c = this.readers[this.next % this.readers.length];
    this.next++;
    return c ?? this.writer;
  }

  /**
   * Runs a report's read query, as all() does. When every date-time it binds falls on a
   * 15-minute slot boundary (slotAligned), its windows have no partial end slots, and it
   * runs on a reader whose window macros are their whole-slot forms (schema `aligned`):
   * the same rows, bound in about half the time. Its SQL must pass the window macros
   * their bounds as parameters (test/reports/aligned-windows.test.ts checks every file).
   */
  async allWindowed(text: string, params: Params = {}, types: ParamTypes = {}): Promise<ResultRow[]> {
    if (!slotAligned(text, params) || this.alignedReaders.length === 0) return this.all(text, params, types);
    return this.all(text, params, types, this.alignedReaders[this.next++ % this.alignedReaders.length]);
  }

  /**
   * Runs a read query with named parameters and returns plain rows. A query DuckDB
   * refuses for want of memory while others hold it runs again shortly (out-of-memory.ts).
   */
  async all(text: string, params: Params = {}, types: ParamTypes = {}, conn?: DuckDBConnection): Promise<ResultRow[]> {
    const b = bindings(text, params, types);
    const c = conn ?? this.reader();
    const reader = await retryOutOfMemory(() => this.track(c.runAndReadAll(text, b.values, b.types)));
    return plain(reader.getRowObjectsJS() as Record<string, unknown>[]);
  }

  /**
   * Runs a read query and hands its result over in chunks (DuckDB's vector size, 2,048
   * rows) on a connection of its own, so an export never holds a pooled reader. The
   * result is complete (or failed) before the first chunk: keep queries bounded. Ending the
   * iteration early (`return()`, or a `break` out of `for await`: a client that went
   * away) closes the connection. Values are JS values: BIGINT as bigint, TIMESTAMP as Date.
   *
   *   const { names, chunks } = await store.openStream('SELECT * FROM calls');
   *   for await (const rows of chunks) send(rows);
   */
  async openStream(text: string, params: Params = {}, types: ParamTypes = {}): Promise<QueryStream> {
    const b = bindings(text, params, types);
    const conn = await this.connect();
    let result;
    try {
      // Materialised, not conn.stream(): the node client ends a streaming result that
      // fails part-way exactly as if it had finished (fetch_chunk gives null, the error
      // is not exposed), which would turn a store error into a silently short file.
      // Callers keep results bounded (keyset pages) instead.
      result = await retryOutOfMemory(() => this.track(conn.run(text, b.values, b.types)));
    } catch (err) {
      conn.closeSync();
      throw err;
    }
    const rows = result.yieldRowsJs();
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      conn.interrupt();
      conn.closeSync();
    };
    async function* chunks(): AsyncGenerator<unknown[][], void, undefined> {
      try {
        for await (const chunk of rows) yield chunk as unknown[][];
      } finally {
        close();
      }
    }
    return { names: result.columnNames(), types: result.columnTypes().map(String), chunks: chunks(), close };
  }

  /**
   * Runs `statements` as one transaction on the write connection (or `on`): BEGIN, each
   * statement, COMMIT, sent as one script so DuckDB runs it without a round trip to the
   * event loop between statements; ROLLBACK when one fails.
   *
   * ```ts
   * await store.transaction([`DELETE FROM x WHERE id = 1`, `INSERT INTO x VALUES (1, 'a')`]);
   * ```
   */
  async transaction(statements: readonly string[], on: DuckDBConnection = this.writer): Promise<void> {
    try {
      await on.run(['BEGIN TRANSACTION', ...statements, 'COMMIT'].join(';\n'));
    } catch (err) {
      this.notice(err);
      await on.run('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      this.writes++;
    }
  }

  /**
   * Lends the write connection to `fn` (the sync's staging tables are temporary tables of
   * that connection): the one writer DuckDB allows, so only the sync and its loaders use it.
   */
  async withWriteConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.writing(fn(this.writer));
  }

  /**
   * Lends a connection of its own to `fn` and closes it after: work that must not share a
   * connection (a CDR file's load, a job's write outside the sync's transactions).
   *
   * ```ts
   * const n = await store.withConnection(async (c) => (await c.runAndReadAll('SELECT 42')).getRows()[0][0]);
   * ```
   */
  async withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.connect();
    try {
      return await this.writing(fn(conn));
    } finally {
      conn.closeSync();
    }
  }

  /** Runs a statement on the write connection. */
  async exec(text: string, params: Params = {}, types: ParamTypes = {}): Promise<void> {
    const b = bindings(text, params, types);
    await this.writing(this.writer.run(text, b.values, b.types));
  }

  async writeAll(text: string, params: Params = {}, types: ParamTypes = {}): Promise<ResultRow[]> {
    return this.writing(this.all(text, params, types, this.writer));
  }

  private async connect(): Promise<DuckDBConnection> {
    return this.watched(Store.connectUtc(this.instance));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const untrack = () => this.running.delete(p);
    p.then(untrack, (err: unknown) => {
      this.notice(err);
      untrack();
    });
    return p;
  }

  /**
   * Runs `fn` with DuckDB's memory limit at `bytes` (none configured: just runs it), then
   * sets the one in force before again; calls nest. DuckDB keeps every block it has read
   * until its limit is reached, and the memory its limit does not count (allocator caches,
   * result chunks) comes on top.
   */
  async withMemoryLimit<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const before = this.memoryLimit;
    if (!before || bytes === before) return fn();
    const set = (limit: number) => this.writer.run(`SET memory_limit = '${Math.floor(limit / 1024 / 1024)}MiB'`);
    this.memoryLimit = bytes;
    await set(bytes);
    try {
      return await fn();
    } finally {
      this.memoryLimit = before;
      await set(before).catch(() => undefined);
    }
  }

  /** Whether a first load runs at limits of its own (StoreOptions.firstLoadLimits): the store has a memory budget. */
  get firstLoadLimited(): boolean {
    return this.opts.firstLoadLimits !== undefined;
  }

  /**
   * Runs a first load's `phase` at its own limit (StoreOptions.firstLoadLimits): a phase
   * that needs no cache (the tables, written batch after batch) leaves that room to the
   * rest of the process. A lifted limit (withoutMemoryLimit) stays lifted.
   */
  async withFirstLoadLimit<T>(phase: 'load' | 'rebuild', fn: () => Promise<T>): Promise<T> {
    const limit = this.opts.firstLoadLimits?.[phase];
    if (!limit || this.memoryLimit !== this.opts.memoryLimit) return fn();
    return this.withMemoryLimit(limit, fn);
  }

  /**
   * Lifts DuckDB's memory limit for `fn` (back to DuckDB's own default, 80 % of the
   * machine), then sets the configured one again. For a load that cannot be done within
   * the budget (a first sync of a large source rebuilding its roll-ups), which would
   * otherwise fail with DuckDB's out-of-memory error on every try.
   */
  async withoutMemoryLimit<T>(fn: () => Promise<T>): Promise<T> {
    return this.withMemoryLimit(Math.floor(os.totalmem() * 0.8), fn);
  }

  /** Stops every running query, the writer's included (shutdown): each fails with DuckDB's interrupt error. */
  interrupt(): void {
    for (const c of [...this.readers, ...this.alignedReaders, this.writer]) c.interrupt();
  }

  /**
   * Interrupts the queries running on `conns` and waits until no query runs: closing a
   * connection under a running query hangs or crashes the native layer.
   */
  private async stopRunning(conns: readonly DuckDBConnection[]): Promise<void> {
    while (this.running.size) {
      for (const c of conns) {
        try {
          c.interrupt();
        } catch {
          // already unusable (an invalidated instance)
        }
      }
      await Promise.allSettled([...this.running]);
    }
  }

  /**
   * Stops the queries still running (a prefetched export page, say), then closes. With
   * none running it closes before its first await, so the file is free as soon as the
   * call returns.
   */
  async close(): Promise<void> {
    if (this.running.size) await this.stopRunning([...this.readers, ...this.alignedReaders]);
    for (const c of [...this.readers, ...this.alignedReaders]) c.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

export class StoreLockedError extends Error {}

/** A query being read chunk by chunk; `close` releases it when iteration never started. */
export interface QueryStream {
  readonly names: string[];
  /** DuckDB's type of each column, as SQL names it (`BIGINT`, `VARCHAR`, `DECIMAL(18,4)`). */
  readonly types: string[];
  readonly chunks: AsyncGenerator<unknown[][], void, undefined>;
  close(): void;
}
