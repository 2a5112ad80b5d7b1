import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated, type Selectable } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  role: 'admin' | 'partner' | 'account';
  account_id: number | null;
  partner_id: number | null;
  first_name: string;
  last_name: string;
  created_at: string;
  /** Set while the user may not sign in; its tokens stop working at once. */
  disabled_at: Generated<string | null>;
}

export interface RefreshTokensTable {
  jti: string;
  user_id: number;
  expires_at: string;
  revoked_at: string | null;
}

export interface JobRunsTable {
  id: Generated<number>;
  job: string;
  started_at: string;
  ended_at: string | null;
  status: 'running' | 'ok' | 'failed' | 'interrupted' | 'skipped';
  stats: string | null;
  error: string | null;
  pid: number;
}

export interface ApiKeysTable {
  auth_id: string;
  partner_id: number;
  /** SHA-256 of the token, hex: the token itself is shown once and never stored. */
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: number;
  name: string;
  /** SHA-256 of the token, hex: the token is shown once and never stored. */
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SubscriptionsTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  kind: 'report' | 'alert';
  report: string | null;
  /** JSON of the report's parameters (strings, as a query has them). */
  params: string;
  window: string | null;
  cron: string;
  zone: string;
  format: string;
  /** JSON list of channels (delivery/subscriptions.ts Channel). */
  channels: string;
  /** JSON of an alert's rule. */
  rule: string | null;
  /** The next scheduled run (derived from cron and zone; the outbox advances it). */
  next_run_at: string | null;
  created_at: string;
  paused_at: string | null;
}

/** The outbox: one row per subscription, occurrence and channel, never two. */
export interface DeliveriesTable {
  /** `msg_…`: the webhook-id and the e-mail's Message-ID, the same on every retry. */
  id: string;
  subscription_id: number;
  /** The scheduled run (ISO instant), or an alert's event key. */
  occurrence: string;
  channel: string;
  /** Sent after its time, for a run missed while the service was down. */
  late: number;
  status: 'pending' | 'sending' | 'sent' | 'failed' | 'gone';
  attempts: number;
  next_attempt_at: string;
  /** A worker holds a 'sending' row until then; a row still 'sending' after it is retried. */
  lease_until: string | null;
  /** The pid of the process holding the row: a row of a process that died is retried at once. */
  claimed_by: number | null;
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  sent_at: string | null;
  /** JSON: what an alert says (its rule instance, state and figures). */
  payload: string | null;
  created_at: string;
}

/** Where each alert rule instance stands (alerts/evaluator.ts). */
export interface AlertStatesTable {
  subscription_id: number;
  instance: string;
  state: 'normal' | 'pending' | 'firing' | 'resolved' | 'too_few_calls';
  /** Consecutive evaluations the condition has held (while pending). */
  held: number;
  since: string;
  last_notified_at: string | null;
  /** Notifications sent for this instance: each one's occurrence key. */
  notices: number;
}

export interface MetaSchema {
  alert_states: AlertStatesTable;
  subscriptions: SubscriptionsTable;
  deliveries: DeliveriesTable;
  api_keys: ApiKeysTable;
  api_tokens: ApiTokensTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  job_runs: JobRunsTable;
}

export type MetaDb = Kysely<MetaSchema>;

/** Each open meta.db's SQLite handle, for the statements prepared once below. */
const handles = new WeakMap<MetaDb, { sqlite: Database.Database; userById?: Database.Statement }>();

/**
 * The user row of an id, by a statement prepared once on meta.db's own handle: it is read
 * on every authenticated request, where Kysely would build and compile the query and
 * better-sqlite3 prepare it each time (a quarter of a cached report answer's CPU).
 */
export function userById(meta: MetaDb, id: number): Selectable<UsersTable> | undefined {
  const h = handles.get(meta);
  if (!h) throw new Error('meta.db was not opened by openMeta');
  h.userById ??= h.sqlite.prepare('SELECT * FROM users WHERE id = ?');
  return h.userById.get(id) as Selectable<UsersTable> | undefined;
}

/**
 * The service's own metadata (users, refresh tokens, job runs) in SQLite through Kysely.
 * Kept apart from the DuckDB store so a CLI can add users while the server runs.
 */
export async function openMeta(file: string): Promise<MetaDb> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<MetaSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  await db.schema.createTable('users').ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('account_id', 'integer')
    .addColumn('partner_id', 'integer')
    .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createTable('refresh_tokens').ifNotExists()
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createTable('job_runs').ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('job', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('stats', 'text')
    .addColumn('error', 'text')
    .addColumn('pid', 'integer', (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX IF NOT EXISTS job_runs_job_started ON job_runs (job, started_at)`.execute(db);
  await db.schema.createTable('api_keys').ifNotExists()
    .addColumn('auth_id', 'text', (c) => c.primaryKey())
    .addColumn('partner_id', 'integer', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createTable('api_tokens').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createTable('subscriptions').ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('report', 'text')
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('window', 'text')
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('channels', 'text', (c) => c.notNull())
    .addColumn('rule', 'text')
    .addColumn('next_run_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('paused_at', 'text')
    .execute();
  await sql`CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_run_at) WHERE paused_at IS NULL`.execute(db);
  await db.schema.createTable('deliveries').ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'integer', (c) => c.notNull())
    .addColumn('occurrence', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('late', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('claimed_by', 'integer')
    .addColumn('first_attempt_at', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('payload', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('deliveries_once', ['subscription_id', 'occurrence', 'channel'])
    .execute();
  await sql`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS deliveries_log ON deliveries (subscription_id, created_at)`.execute(db);
  await db.schema.createTable('alert_states').ifNotExists()
    .addColumn('subscription_id', 'integer', (c) => c.notNull())
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('held', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('since', 'text', (c) => c.notNull())
    .addColumn('last_notified_at', 'text')
    .addColumn('notices', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('alert_states_pk', ['subscription_id', 'instance'])
    .execute();
  // Columns added after a table was first made: added to older files on open.
  const userColumns = (await sql<{ name: string }>`PRAGMA table_info(users)`.execute(db)).rows.map((c) => c.name);
  if (!userColumns.includes('disabled_at')) await sql`ALTER TABLE users ADD COLUMN disabled_at TEXT`.execute(db);
  handles.set(db, { sqlite });
  return db;
}
