import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IANAZone } from 'luxon';
import { validate as validCron } from 'node-cron';
import { parseSourceUrl } from '../source/connect.ts';
import { parsePlatformUrl } from '../source/platform-url.ts';
import { DEFAULT_CID_THRESHOLDS, type CallerIdThresholds } from '../reports/telesales/caller-id-health.ts';

/** A bad setting: start-up stops with a message naming the variable. */
export class ConfigError extends Error {}

export interface Config {
  /** Source URL; null means the embedded demo source under the data directory. */
  source: string | null;
  dataDir: string;
  /** Customer export layouts: <dir>/<account_id>/<report>.json|yaml. */
  templatesDir: string;
  host: string;
  port: number;
  syncCron: string;
  /** Rows per sync batch; null: the sync's own (125,000 on a first load, 250,000 after). */
  syncBatchSize: number | null;
  /** Files the service writes (monthly billing): <dir>/billing/. */
  exportsDir: string;
  billingCron: string;
  billingZone: string;
  /** /readyz fails once the sync has been failing longer than this (seconds). */
  readyMaxFailingSec: number;
  monitorCron: string;
  abandonWindowMinutes: number;
  retentionCron: string;
  jobRetentionDays: number;
  syncRetry: { retries: number; baseMs: number; maxMs: number };
  /** How long the source may keep a sync waiting (see SourceTimeouts). */
  sourceTimeouts: { connectMs: number; statementMs: number; idleMs: number };
  /** A sync running longer than this is failed (and /readyz counts it as failing). */
  syncTimeoutSec: number;
  /** SIGTERM exits within this, whatever is still running. */
  shutdownTimeoutSec: number;
  loginLimits: { perClientPerMinute: number; perAccountPerQuarterHour: number };
  /** The process's memory budget in bytes; DuckDB gets 3/16 of it (see budgetShares). */
  memoryLimit: number;
  /** Exports written at once, and queued, before 503. */
  exportConcurrency: number;
  exportQueue: number;
  /** The CDR drop directory: <dir>/inbox, loaded/, failed/. */
  cdrDir: string;
  cdrCron: string;
  jwtSecret: string | null;
  demoCalls: number;
  logLevel: string;
  callerIdThresholds: CallerIdThresholds;
  /** Browser origins allowed to call the API (CORS); empty allows none. */
  corsOrigins: string[];
  /** SMTP server of e-mail delivery (smtp:// or smtps://); null: e-mail channels are refused. */
  smtpUrl: string | null;
  mailFrom: string;
  /** Attachments larger than this are replaced by a signed download link. */
  mailMaxBytes: number;
  /** The address people reach the service at, for links in e-mails and webhooks. */
  publicUrl: string;
  /** How long a delivered file's signed link works (seconds). */
  deliveryLinkTtlSec: number;
  deliveryCron: string;
  alertCron: string;
  /** Webhooks may point at loopback and private addresses. */
  webhookAllowPrivate: boolean;
}

/** What a variable's reader gets: its raw value, its name, and the settings read before it. */
type Reader<T> = (raw: string | undefined, name: string, read: Partial<Settings>) => T;

/** One configuration variable: its name, its default as shown, its meaning, and its reader. */
export interface ConfigVar {
  readonly name: string;
  readonly default: string;
  readonly meaning: string;
  readonly key: keyof Settings;
  readonly read: Reader<unknown>;
}

/** The flat settings the variables give, in the order they are read. */
interface Settings {
  source: string | null; dataDir: string; templatesDir: string; host: string; port: number; syncCron: string;
  exportsDir: string; billingCron: string; billingZone: string; readyMaxFailingSec: number; syncRetries: number;
  monitorCron: string; abandonWindowMinutes: number; retentionCron: string; jobRetentionDays: number; cdrDir: string;
  cdrCron: string; syncBatchSize: number | null; jwtSecret: string | null; demoCalls: number; logLevel: string;
  loginPerClient: number; loginPerAccount: number; memoryLimit: number; exportConcurrency: number | null; exportQueue: number;
  sourceConnectSec: number; sourceStatementSec: number; sourceIdleSec: number; syncTimeoutSec: number; shutdownTimeoutSec: number;
  cidBlockMinCalls: number; cidBlockAsrPct: number; cidBlockRejectedPct: number; cidWarnAsrPct: number; cidWarnShortPct: number;
  corsOrigins: string[]; smtpUrl: string | null; mailFrom: string; mailMaxBytes: number; publicUrl: string | null; deliveryLinkDays: number;
  deliveryCron: string; alertCron: string; webhookAllowPrivate: boolean;
}

const given = (raw: string | undefined) => (raw === undefined || raw === '' ? undefined : raw);

const integer = (fallback: number, min: number, max: number): Reader<number> => (raw, name) => {
  const v = given(raw);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`${name}="${v}" must be an integer from ${min} to ${max}`);
  return Number(v);
};

const percent = (fallback: number): Reader<number> => (raw, name) => {
  const v = given(raw);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new ConfigError(`${name}="${v}" must be a number from 0 to 100`);
  return n;
};

const cron = (fallback: string): Reader<string> => (raw, name) => {
  const v = given(raw) ?? fallback;
  if (!validCron(v)) throw new ConfigError(`${name}="${v}" is not a valid cron expression`);
  return v;
};

/** A directory, absolute; by default `sub` under the data directory. */
const dataSubdir = (sub: string): Reader<string> => (raw, _name, read) => path.resolve(given(raw) ?? path.join(read.dataDir!, sub));

const sourceUrl: Reader<string | null> = (raw, name) => {
  const v = given(raw) ?? null;
  if (v === null) return null;
  try {
    if (v.startsWith('platform+')) parsePlatformUrl(v);
    else parseSourceUrl(v);
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
  return v;
};

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30 };

/** A size: bytes, or a number with a unit (512MiB, 1GiB, 2GB). */
const size = (fallback: number, min: number): Reader<number> => (raw, name) => {
  const v = given(raw);
  if (v === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(`${name}="${v}" must be a size such as 1GiB, 768MiB or 2GB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < min) throw new ConfigError(`${name}="${v}" must be at least ${Math.round(min / 2 ** 20)} MiB`);
  return bytes;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const d = DEFAULT_CID_THRESHOLDS;
const cfg = (key: keyof Settings, name: string, shown: string, meaning: string, read: Reader<unknown>): ConfigVar => ({ key, name, default: shown, meaning, read });

/** Every variable the service reads, with its default, meaning and reader: loadConfig and --help read this table. */
export const CONFIG_VARS: readonly ConfigVar[] = [
  cfg('source', 'CALLBOARD_SOURCE', '(demo: sqlite:DATA_DIR/demo-source.db)', 'source URL: sqlite:PATH, postgres://user:pass@host:5432/db, or a platform API: platform+https://EMAIL:PASSWORD@host/?account_id=N', sourceUrl),
  cfg('dataDir', 'CALLBOARD_DATA_DIR', './data', 'DuckDB store, metadata, secrets and the demo source', (raw) => path.resolve(given(raw) ?? './data')),
  cfg('templatesDir', 'CALLBOARD_TEMPLATES_DIR', 'DATA_DIR/templates', 'customer export layouts, one file per account and report: <dir>/<account_id>/<report>.json|yaml', dataSubdir('templates')),
  cfg('host', 'HOST', '127.0.0.1', 'address the HTTP server listens on', (raw) => given(raw) ?? '127.0.0.1'),
  cfg('port', 'PORT', '3000', 'HTTP port', integer(3000, 0, 65535)),
  cfg('syncCron', 'CALLBOARD_SYNC_CRON', '* * * * *', 'node-cron schedule of the source sync (seconds field allowed)', cron('* * * * *')),
  cfg('exportsDir', 'CALLBOARD_EXPORTS_DIR', 'DATA_DIR/exports', 'files the service writes: monthly billing reconciliation under billing/', dataSubdir('exports')),
  cfg('billingCron', 'CALLBOARD_BILLING_CRON', '0 2 1 * *', "node-cron schedule of the monthly billing files (last month's reconciliation)", cron('0 2 1 * *')),
  cfg('billingZone', 'CALLBOARD_BILLING_TZ', 'Etc/GMT+12', 'zone of the billing schedule; the default fires when the month has ended in every timezone', (raw, name) => {
    const v = given(raw) ?? 'Etc/GMT+12';
    if (!IANAZone.isValidZone(v)) throw new ConfigError(`${name}="${v}" is not an IANA timezone`);
    return v;
  }),
  cfg('readyMaxFailingSec', 'CALLBOARD_READY_MAX_FAILING_SEC', '600', '/readyz answers 503 once the sync has been failing for longer than this', integer(600, 1, 31_536_000)),
  cfg('syncRetries', 'CALLBOARD_SYNC_RETRIES', '4', 'retries of a failed sync (and billing) run, with exponential backoff and jitter from 2 s up to 30 s', integer(4, 0, 100)),
  cfg('monitorCron', 'CALLBOARD_MONITOR_CRON', '* * * * *', 'node-cron schedule of the abandon-rate monitor (a snapshot per campaign with dials)', cron('* * * * *')),
  cfg('abandonWindowMinutes', 'CALLBOARD_ABANDON_WINDOW_MINUTES', '43200', "the monitor's abandon-rate window (the report's default: 30 days)", integer(43_200, 1, 525_600)),
  cfg('retentionCron', 'CALLBOARD_RETENTION_CRON', '30 3 * * *', 'node-cron schedule of the retention job', cron('30 3 * * *')),
  cfg('jobRetentionDays', 'CALLBOARD_JOB_RETENTION_DAYS', '30', 'job runs and monitor snapshots older than this are deleted (the newest 100 breaches per campaign stay)', integer(30, 1, 3650)),
  cfg('cdrDir', 'CALLBOARD_CDR_DIR', 'DATA_DIR/cdr', 'CDR drop directory: CSV or Parquet call records put in inbox/ load once, then move to loaded/ or failed/', dataSubdir('cdr')),
  cfg('cdrCron', 'CALLBOARD_CDR_CRON', '*/10 * * * * *', 'node-cron schedule of the CDR import (every 10 s)', cron('*/10 * * * * *')),
  cfg('syncBatchSize', 'CALLBOARD_SYNC_BATCH', '(125000 on a first load, 250000 after)', 'rows per sync batch (one DuckDB transaction each)', (raw, name, read) => (given(raw) === undefined ? null : integer(250_000, 100, 1_000_000)(raw, name, read))),
  cfg('sourceConnectSec', 'CALLBOARD_SOURCE_CONNECT_TIMEOUT_SEC', '10', 'seconds to connect to a PostgreSQL source (and to close it)', integer(10, 1, 3600)),
  cfg('sourceStatementSec', 'CALLBOARD_SOURCE_STATEMENT_TIMEOUT_SEC', '300', 'seconds one source statement, or one request of the platform API, may take', integer(300, 1, 86_400)),
  cfg('sourceIdleSec', 'CALLBOARD_SOURCE_IDLE_TIMEOUT_SEC', '30', 'seconds an idle PostgreSQL source connection is kept', integer(30, 1, 86_400)),
  cfg('syncTimeoutSec', 'CALLBOARD_SYNC_TIMEOUT_SEC', '3600', 'a sync running longer is stopped and fails; /readyz counts it as failing', integer(3600, 1, 604_800)),
  cfg('shutdownTimeoutSec', 'CALLBOARD_SHUTDOWN_TIMEOUT_SEC', '10', 'on SIGTERM or SIGINT the process exits within this, stopping what still runs', integer(10, 1, 3600)),
  cfg('loginPerClient', 'CALLBOARD_LOGIN_MAX_PER_MIN', '20', 'logins a client address may try per minute before 429 (each try past it doubles the wait)', integer(20, 1, 100_000)),
  cfg('loginPerAccount', 'CALLBOARD_LOGIN_MAX_PER_ACCOUNT', '10', 'logins one account may be tried per 15 minutes before 429 (each try past it doubles the wait)', integer(10, 1, 100_000)),
  cfg('memoryLimit', 'CALLBOARD_MEMORY_LIMIT', '1GiB', "the process's memory budget: DuckDB's limit is 3/16 of it, at least 192 MiB (it spills to DATA_DIR/duckdb-tmp beyond it); exports share the rest. At least 512MiB", size(2 ** 30, 512 * 2 ** 20)),
  cfg('exportConcurrency', 'CALLBOARD_EXPORT_CONCURRENCY', '(one per 512 MiB of the budget)', 'CSV/XLSX exports written at once; more wait in a queue', (raw, name, read) => (given(raw) === undefined ? null : integer(1, 1, 1000)(raw, name, read))),
  cfg('exportQueue', 'CALLBOARD_EXPORT_QUEUE', '16', 'exports that may wait for a slot; beyond, 503 with Retry-After', integer(16, 0, 10_000)),
  cfg('jwtSecret', 'CALLBOARD_JWT_SECRET', '(generated into DATA_DIR/jwt-secret)', 'HS256 secret for access and refresh tokens, at least 32 characters', (raw, name) => {
    const v = given(raw) ?? null;
    if (v !== null && v.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
    return v;
  }),
  cfg('demoCalls', 'CALLBOARD_DEMO_CALLS', '200000', 'calls in the demo source generated on first start', integer(200_000, 0, 10_000_000)),
  cfg('logLevel', 'CALLBOARD_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent', (raw, name) => {
    const v = given(raw) ?? 'info';
    if (!LOG_LEVELS.includes(v)) throw new ConfigError(`${name}="${v}" must be one of ${LOG_LEVELS.join(', ')}`);
    return v;
  }),
  cfg('cidBlockMinCalls', 'CALLBOARD_CID_BLOCK_MIN_CALLS', String(d.blockMinCalls), 'caller-ID health: dials before suspected_block can apply', integer(d.blockMinCalls, 0, 1_000_000_000)),
  cfg('cidBlockAsrPct', 'CALLBOARD_CID_BLOCK_ASR_PCT', String(d.blockAsrPct), 'caller-ID health: ASR below this (%) is suspected_block', percent(d.blockAsrPct)),
  cfg('cidBlockRejectedPct', 'CALLBOARD_CID_BLOCK_REJECTED_PCT', String(d.blockRejectedPct), 'caller-ID health: rejected share at or above this (%) is suspected_block', percent(d.blockRejectedPct)),
  cfg('cidWarnAsrPct', 'CALLBOARD_CID_WARN_ASR_PCT', String(d.warnAsrPct), 'caller-ID health: ASR below this (%) is warning', percent(d.warnAsrPct)),
  cfg('cidWarnShortPct', 'CALLBOARD_CID_WARN_SHORT_PCT', String(d.warnShortPct), 'caller-ID health: short-call share above this (%) is warning', percent(d.warnShortPct)),
  cfg('corsOrigins', 'CALLBOARD_CORS_ORIGINS', '(none)', 'browser origins allowed to call the API with a Bearer token, comma-separated (https://grafana.example.com)', (raw, name) => {
    const list = (given(raw) ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
    for (const o of list) {
      let u: URL | null = null;
      try {
        u = new URL(o);
      } catch { /* reported below */ }
      if (!u || !/^https?:$/.test(u.protocol) || u.origin !== o) throw new ConfigError(`${name}: "${o}" is not an origin such as https://bi.example.com (scheme, host and port only)`);
    }
    return list;
  }),
  cfg('smtpUrl', 'CALLBOARD_SMTP_URL', '(none: no e-mail delivery)', 'SMTP server of e-mail delivery: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465', (raw, name) => {
    const v = given(raw) ?? null;
    if (v === null) return null;
    let u: URL | null = null;
    try {
      u = new URL(v);
    } catch { /* reported below */ }
    if (!u || !/^smtps?:$/.test(u.protocol) || !u.hostname) throw new ConfigError(`${name} must be smtp://[user:pass@]host[:port] or smtps://…`);
    return v;
  }),
  cfg('mailFrom', 'CALLBOARD_MAIL_FROM', 'Callboard <callboard@localhost>', 'the From of delivered e-mail', (raw) => given(raw) ?? 'Callboard <callboard@localhost>'),
  cfg('mailMaxBytes', 'CALLBOARD_MAIL_MAX_BYTES', '10MB', 'attachments larger than this are not attached: the e-mail links to a signed download instead', size(10e6, 0)),
  cfg('publicUrl', 'CALLBOARD_PUBLIC_URL', '(http://HOST:PORT)', 'the address people reach the service at, for the links in e-mails and webhooks', (raw, name) => {
    const v = given(raw) ?? null;
    if (v === null) return null;
    if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(v)) throw new ConfigError(`${name}="${v}" must be an http(s) URL`);
    return v.replace(/\/+$/, '');
  }),
  cfg('deliveryCron', 'CALLBOARD_DELIVERY_CRON', '*/10 * * * * *', 'node-cron schedule of the delivery worker: queues the subscriptions whose run has come and sends what is due (every 10 s)', cron('*/10 * * * * *')),
  cfg('alertCron', 'CALLBOARD_ALERT_CRON', '30 * * * * *', 'node-cron schedule of the alert rules\' evaluation (every minute, half way between syncs)', cron('30 * * * * *')),
  cfg('webhookAllowPrivate', 'CALLBOARD_WEBHOOK_ALLOW_PRIVATE', 'false', 'true lets webhooks point at loopback and private addresses (a receiver on the same network)', (raw, name) => {
    const v = given(raw) ?? 'false';
    if (v !== 'true' && v !== 'false') throw new ConfigError(`${name}="${v}" must be true or false`);
    return v === 'true';
  }),
  cfg('deliveryLinkDays', 'CALLBOARD_DELIVERY_LINK_DAYS', '7', "days a delivered file's signed download link works", integer(7, 1, 365)),
];

/** Reads and checks the environment, variable by variable; throws ConfigError naming the first bad one. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read: Partial<Settings> = {};
  for (const v of CONFIG_VARS) (read as Record<string, unknown>)[v.key] = v.read(env[v.name], v.name, read);
  const s = read as Settings;
  return {
    source: s.source, dataDir: s.dataDir, templatesDir: s.templatesDir, host: s.host, port: s.port, syncCron: s.syncCron,
    syncBatchSize: s.syncBatchSize, exportsDir: s.exportsDir, billingCron: s.billingCron, billingZone: s.billingZone,
    readyMaxFailingSec: s.readyMaxFailingSec, monitorCron: s.monitorCron, abandonWindowMinutes: s.abandonWindowMinutes,
    retentionCron: s.retentionCron, jobRetentionDays: s.jobRetentionDays, cdrDir: s.cdrDir, cdrCron: s.cdrCron,
    syncRetry: { retries: s.syncRetries, baseMs: 2_000, maxMs: 30_000 },
    sourceTimeouts: { connectMs: s.sourceConnectSec * 1000, statementMs: s.sourceStatementSec * 1000, idleMs: s.sourceIdleSec * 1000 },
    syncTimeoutSec: s.syncTimeoutSec, shutdownTimeoutSec: s.shutdownTimeoutSec,
    loginLimits: { perClientPerMinute: s.loginPerClient, perAccountPerQuarterHour: s.loginPerAccount },
    memoryLimit: s.memoryLimit,
    exportConcurrency: s.exportConcurrency ?? budgetShares(s.memoryLimit).exports,
    exportQueue: s.exportQueue,
    jwtSecret: s.jwtSecret, demoCalls: s.demoCalls, logLevel: s.logLevel,
    callerIdThresholds: {
      blockMinCalls: s.cidBlockMinCalls, blockAsrPct: s.cidBlockAsrPct, blockRejectedPct: s.cidBlockRejectedPct,
      warnAsrPct: s.cidWarnAsrPct, warnShortPct: s.cidWarnShortPct,
    },
    corsOrigins: s.corsOrigins, smtpUrl: s.smtpUrl, mailFrom: s.mailFrom, mailMaxBytes: s.mailMaxBytes,
    publicUrl: s.publicUrl ?? `http://${s.host === '0.0.0.0' ? '127.0.0.1' : s.host}:${s.port}`,
    deliveryLinkTtlSec: s.deliveryLinkDays * 86_400, deliveryCron: s.deliveryCron, alertCron: s.alertCron, webhookAllowPrivate: s.webhookAllowPrivate,
  };
}

/** The JWT secret: the configured one, or one generated once and kept in the data directory. */
export function jwtSecret(config: Config): string {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

export const paths = (config: Config) => ({
  store: path.join(config.dataDir, 'callboard.duckdb'),
  meta: path.join(config.dataDir, 'meta.db'),
  demoSource: path.join(config.dataDir, 'demo-source.db'),
  server: path.join(config.dataDir, 'server.json'),
  /** Left by `callboard seed --force` over the store's own source: the next sync empties the store first. */
  rebuildFlag: path.join(config.dataDir, 'rebuild-store'),
});

/**
 * Everything the service writes is its owner's alone: files 0600, folders 0700 (the
 * store, the metadata with its password hashes, exports with customers' data). Files an
 * earlier version left readable by others are narrowed too.
 */
export function ownerOnly(config: Config): void {
  process.umask(0o077);
  const p = paths(config);
  for (const file of [p.store, `${p.store}.wal`, p.meta, `${p.meta}-wal`, `${p.meta}-shm`, path.join(config.dataDir, 'jwt-secret')]) {
    try {
      fs.chmodSync(file, 0o600);
    } catch {
      // not there (yet)
    }
  }
  for (const dir of [config.dataDir, config.exportsDir]) {
    try {
      fs.chmodSync(dir, 0o700);
    } catch {
      // not there (yet)
    }
  }
}

const DUCKDB_FLOOR = 192 * 2 ** 20;
const FIRST_LOAD_FLOOR = 256 * 2 ** 20;

/**
 * How a memory budget is shared: DuckDB's limit, its limit during a first load, and the
 * exports written at once (one per 512 MiB, at least one). DuckDB's limit counts its cache
 * of blocks read, sorts and joins, and the cache fills it: over a long export the cached
 * blocks come to the limit, while a short one stops short of it. So the limit is kept low,
 * 3/16 of the budget but at least 192 MiB, which 8 exports of 1M rows at once (two at a
 * time) run in, and a 7.5M-row export peaks at 1.05–1.06× a 1M-row one (with the
 * allocator setting of src/store/allocator.ts); at 128 MiB a 1M-row export failed part-way
 * with DuckDB's out-of-memory error, and two at once failed at 160 MiB. Its allocator's
 * memory, Node, and the exports in flight share the rest. A
 * first load runs while nothing else does (reports answer 503 until it ends), so it takes
 * 5/16 of the budget while it writes the tables and 3/8 while it rebuilds the roll-ups
 * (see syncWith), at least 256 MiB.
 */
export function budgetShares(bytes: number): { duckdb: number; firstLoad: { load: number; rebuild: number }; exports: number } {
  // The first load's shares exceed the steady 3/16, and its floor the steady floor, so
  // they never fall below DuckDB's steady limit.
  return {
    duckdb: Math.floor(Math.max((bytes * 3) / 16, DUCKDB_FLOOR)),
    firstLoad: { load: Math.max(FIRST_LOAD_FLOOR, Math.floor((bytes * 5) / 16)), rebuild: Math.max(FIRST_LOAD_FLOOR, Math.floor((bytes * 3) / 8)) },
    exports: Math.max(1, Math.floor(bytes / (512 * 2 ** 20))),
  };
}

/** The store's memory settings for a budget: its limits, and where it spills the rest. */
export function budgetStoreOptions(bytes: number, tempDir: string): { memoryLimit: number; firstLoadLimits: { load: number; rebuild: number }; tempDir: string } {
  const shares = budgetShares(bytes);
  return { memoryLimit: shares.duckdb, firstLoadLimits: shares.firstLoad, tempDir };
}

/** The store's share of the memory budget, and where it spills the rest. */
export function storeMemory(config: Config): ReturnType<typeof budgetStoreOptions> {
  return budgetStoreOptions(config.memoryLimit, path.join(config.dataDir, 'duckdb-tmp'));
}

