import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';

/** Row shape of any source table: the connector reads contract columns by name. */
export type SourceRow = Record<string, unknown>;
// Kysely wants a database interface; the contract is checked at run time instead.
export type SourceDb = Record<string, SourceRow>;

export type SourceDialect = 'sqlite' | 'postgres';

/**
 * How long a source may keep the service waiting, in milliseconds: to connect, for one
 * statement (or one HTTP request of the platform's API, body included), and idle in a
 * pool. A source that accepts a connection and never answers fails the run instead of
 * hanging it.
 */
export interface SourceTimeouts {
  connectMs: number;
  statementMs: number;
  idleMs: number;
}

export const DEFAULT_SOURCE_TIMEOUTS: SourceTimeouts = { connectMs: 10_000, statementMs: 300_000, idleMs: 30_000 };

/** Settles with `p`, or rejects with `message` after `ms`: a wait that cannot hang. */
export async function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SourceConnection {
  readonly url: string;
  readonly dialect: SourceDialect;
  readonly db: Kysely<SourceDb>;
  /** The SQLite handle, for executing Kysely-built queries in array mode. */
  readonly sqlite?: Database.Database;
  close(): Promise<void>;
}

/** A URL as it may appear in a message: any password between `:` and `@` hidden. */
function redactable(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

/**
 * Parses a source URL: `sqlite:PATH` (relative paths from the working directory) or
 * `postgres://user:pass@host:port/db`. Throws a message that names the URL on anything else.
 */
export function parseSourceUrl(url: string): { dialect: SourceDialect; target: string } {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new Error(`source URL "${url}" names no file (expected sqlite:PATH)`);
    return { dialect: 'sqlite', target: path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`source URL "${redactable(url)}" is not a valid postgres:// URL`);
    }
    if (!parsed.hostname) throw new Error(`source URL "${redactable(url)}" names no host`);
    return { dialect: 'postgres', target: url };
  }
  throw new Error(`source URL "${url}" is neither sqlite:PATH nor postgres://…`);
}

/**
 * Opens a read-only Kysely connection to the source; SQLite and PostgreSQL share every
 * query. Closing never waits longer than the connect timeout: a server that stopped
 * answering is left behind, not waited for.
 */
export function connectSource(url: string, opts: { readonly?: boolean; timeouts?: SourceTimeouts } = {}): SourceConnection {
  const t = opts.timeouts ?? DEFAULT_SOURCE_TIMEOUTS;
  const { dialect, target } = parseSourceUrl(url);
  if (dialect === 'sqlite') {
    const sqlite = new Database(target, { readonly: opts.readonly ?? true, fileMustExist: opts.readonly ?? true });
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<SourceDb>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { url, dialect, db, sqlite, close: () => db.destroy() };
  }
  // Decimals and bigints arrive as exact strings; timestamps as Date (normalised by the reader).
  // The server cancels a statement past statement_timeout; query_timeout gives up on the
  // client side too, for a server that has stopped answering altogether.
  const pool = new pg.Pool({
    connectionString: target, max: 2,
    connectionTimeoutMillis: t.connectMs, idleTimeoutMillis: t.idleMs,
    statement_timeout: t.statementMs, query_timeout: t.statementMs + 5_000,
    idle_in_transaction_session_timeout: t.statementMs, keepAlive: true,
  });
  // An idle client's socket error (the server went away) is the next query's error, not a crash.
  pool.on('error', () => undefined);
  const db = new Kysely<SourceDb>({ dialect: new PostgresDialect({ pool }) });
  return { url, dialect, db, close: () => within(db.destroy(), t.connectMs, 'closing the source timed out').catch(() => undefined) };
}
