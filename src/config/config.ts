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
  syncBatchSize: number;
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
  /** The CDR drop directory: <dir>/inbox, loaded/, failed/. */
  cdrDir: string;
  cdrCron: string;
  jwtSecret: string | null;
  demoCalls: number;
  logLevel: string;
  callerIdThresholds: CallerIdThresholds;
}

/** Every variable the service reads, with its default and meaning (README and --help print this). */
export const CONFIG_VARS: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'CALLBOARD_SOURCE', default: '(demo: sqlite:DATA_DIR/demo-source.db)', meaning: 'source URL: sqlite:PATH, postgres://user:pass@host:5432/db, or a platform API: platform+https://EMAIL:PASSWORD@host/?account_id=N' },
  { name: 'CALLBOARD_DATA_DIR', default: './data', meaning: 'DuckDB store, metadata, secrets and the demo source' },
  { name: 'CALLBOARD_TEMPLATES_DIR', default: 'DATA_DIR/templates', meaning: 'customer export layouts, one file per account and report: <dir>/<account_id>/<report>.json|yaml' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'address the HTTP server listens on' },
  { name: 'PORT', default: '3000', meaning: 'HTTP port' },
  { name: 'CALLBOARD_SYNC_CRON', default: '* * * * *', meaning: 'node-cron schedule of the source sync (seconds field allowed)' },
  { name: 'CALLBOARD_EXPORTS_DIR', default: 'DATA_DIR/exports', meaning: 'files the service writes: monthly billing reconciliation under billing/' },
  { name: 'CALLBOARD_BILLING_CRON', default: '0 2 1 * *', meaning: "node-cron schedule of the monthly billing files (last month's reconciliation)" },
  { name: 'CALLBOARD_BILLING_TZ', default: 'Etc/GMT+12', meaning: 'zone of the billing schedule; the default fires when the month has ended in every timezone' },
  { name: 'CALLBOARD_READY_MAX_FAILING_SEC', default: '600', meaning: '/readyz answers 503 once the sync has been failing for longer than this' },
  { name: 'CALLBOARD_SYNC_RETRIES', default: '4', meaning: 'retries of a failed sync (and billing) run, with exponential backoff and jitter from 2 s up to 30 s' },
  { name: 'CALLBOARD_MONITOR_CRON', default: '* * * * *', meaning: 'node-cron schedule of the abandon-rate monitor (a snapshot per active campaign)' },
  { name: 'CALLBOARD_ABANDON_WINDOW_MINUTES', default: '43200', meaning: "the monitor's abandon-rate window (the report's default: 30 days)" },
  { name: 'CALLBOARD_RETENTION_CRON', default: '30 3 * * *', meaning: 'node-cron schedule of the retention job' },
  { name: 'CALLBOARD_JOB_RETENTION_DAYS', default: '30', meaning: 'job runs and monitor snapshots older than this are deleted (the newest 100 breaches per campaign stay)' },
  { name: 'CALLBOARD_CDR_DIR', default: 'DATA_DIR/cdr', meaning: 'CDR drop directory: CSV or Parquet call records put in inbox/ load once, then move to loaded/ or failed/' },
  { name: 'CALLBOARD_CDR_CRON', default: '*/10 * * * * *', meaning: 'node-cron schedule of the CDR import (every 10 s)' },
  { name: 'CALLBOARD_SYNC_BATCH', default: '250000', meaning: 'rows per sync batch (one DuckDB transaction each)' },
  { name: 'CALLBOARD_JWT_SECRET', default: '(generated into DATA_DIR/jwt-secret)', meaning: 'HS256 secret for access and refresh tokens, at least 32 characters' },
  { name: 'CALLBOARD_DEMO_CALLS', default: '200000', meaning: 'calls in the demo source generated on first start' },
  { name: 'CALLBOARD_LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'CALLBOARD_CID_BLOCK_MIN_CALLS', default: '30', meaning: 'caller-ID health: dials before suspected_block can apply' },
  { name: 'CALLBOARD_CID_BLOCK_ASR_PCT', default: '10', meaning: 'caller-ID health: ASR below this (%) is suspected_block' },
  { name: 'CALLBOARD_CID_BLOCK_REJECTED_PCT', default: '30', meaning: 'caller-ID health: rejected share at or above this (%) is suspected_block' },
  { name: 'CALLBOARD_CID_WARN_ASR_PCT', default: '30', meaning: 'caller-ID health: ASR below this (%) is warning' },
  { name: 'CALLBOARD_CID_WARN_SHORT_PCT', default: '40', meaning: 'caller-ID health: short-call share above this (%) is warning' },
];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(`${name}="${raw}" must be an integer from ${min} to ${max}`);
  return Number(raw);
}

function pct(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new ConfigError(`${name}="${raw}" must be a number from 0 to 100`);
  return n;
}

/** Reads and checks the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const source = env.CALLBOARD_SOURCE || null;
  if (source) {
    try {
      if (source.startsWith('platform+')) parsePlatformUrl(source);
      else parseSourceUrl(source);
    } catch (err) {
      throw new ConfigError(`CALLBOARD_SOURCE: ${(err as Error).message}`);
    }
  }
  const syncCron = env.CALLBOARD_SYNC_CRON || '* * * * *';
  if (!validCron(syncCron)) throw new ConfigError(`CALLBOARD_SYNC_CRON="${syncCron}" is not a valid cron expression`);
  const billingCron = env.CALLBOARD_BILLING_CRON || '0 2 1 * *';
  if (!validCron(billingCron)) throw new ConfigError(`CALLBOARD_BILLING_CRON="${billingCron}" is not a valid cron expression`);
  const billingZone = env.CALLBOARD_BILLING_TZ || 'Etc/GMT+12';
  if (!IANAZone.isValidZone(billingZone)) throw new ConfigError(`CALLBOARD_BILLING_TZ="${billingZone}" is not an IANA timezone`);
  const cronVar = (name: string, fallback: string) => {
    const v = env[name] || fallback;
    if (!validCron(v)) throw new ConfigError(`${name}="${v}" is not a valid cron expression`);
    return v;
  };
  const monitorCron = cronVar('CALLBOARD_MONITOR_CRON', '* * * * *');
  const retentionCron = cronVar('CALLBOARD_RETENTION_CRON', '30 3 * * *');
  const cdrCron = cronVar('CALLBOARD_CDR_CRON', '*/10 * * * * *');
  const jwtSecret = env.CALLBOARD_JWT_SECRET || null;
  if (jwtSecret !== null && jwtSecret.length < 32) throw new ConfigError('CALLBOARD_JWT_SECRET must be at least 32 characters');
  const logLevel = env.CALLBOARD_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`CALLBOARD_LOG_LEVEL="${logLevel}" must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const host = env.HOST || '127.0.0.1';
  const d = DEFAULT_CID_THRESHOLDS;
  const dataDir = path.resolve(env.CALLBOARD_DATA_DIR || './data');
  return {
    source,
    dataDir,
    templatesDir: path.resolve(env.CALLBOARD_TEMPLATES_DIR || path.join(dataDir, 'templates')),
    host,
    port: int(env, 'PORT', 3000, 0, 65535),
    syncCron,
    syncBatchSize: int(env, 'CALLBOARD_SYNC_BATCH', 250_000, 100, 1_000_000),
    exportsDir: path.resolve(env.CALLBOARD_EXPORTS_DIR || path.join(dataDir, 'exports')),
    billingCron,
    billingZone,
    readyMaxFailingSec: int(env, 'CALLBOARD_READY_MAX_FAILING_SEC', 600, 1, 31_536_000),
    monitorCron,
    abandonWindowMinutes: int(env, 'CALLBOARD_ABANDON_WINDOW_MINUTES', 43_200, 1, 525_600),
    retentionCron,
    jobRetentionDays: int(env, 'CALLBOARD_JOB_RETENTION_DAYS', 30, 1, 3650),
    cdrDir: path.resolve(env.CALLBOARD_CDR_DIR || path.join(dataDir, 'cdr')),
    cdrCron,
    syncRetry: { retries: int(env, 'CALLBOARD_SYNC_RETRIES', 4, 0, 100), baseMs: 2_000, maxMs: 30_000 },
    jwtSecret,
    demoCalls: int(env, 'CALLBOARD_DEMO_CALLS', 200_000, 0, 10_000_000),
    logLevel,
    callerIdThresholds: {
      blockMinCalls: int(env, 'CALLBOARD_CID_BLOCK_MIN_CALLS', d.blockMinCalls, 0, 1_000_000_000),
      blockAsrPct: pct(env, 'CALLBOARD_CID_BLOCK_ASR_PCT', d.blockAsrPct),
      blockRejectedPct: pct(env, 'CALLBOARD_CID_BLOCK_REJECTED_PCT', d.blockRejectedPct),
      warnAsrPct: pct(env, 'CALLBOARD_CID_WARN_ASR_PCT', d.warnAsrPct),
      warnShortPct: pct(env, 'CALLBOARD_CID_WARN_SHORT_PCT', d.warnShortPct),
    },
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
