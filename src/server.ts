import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TemplateStore } from './export/templates.ts';
import { generateSource } from '../fixtures/generate.ts';
import { SyncJob, syncJobOptions } from '../jobs/sync.ts';
import { markInterruptedRuns } from '../jobs/record.ts';
import { startSchedule } from '../jobs/schedule.ts';
import { BillingJob } from '../jobs/billing.ts';
import { AbandonMonitor } from '../jobs/abandon-monitor.ts';
import { RetentionJob } from '../jobs/retention.ts';
import { CdrImportJob } from '../jobs/cdr-import.ts';
import { addUser } from './auth/users.ts';
import { jwtSecret, paths, storeMemory, type Config, ConfigError } from './config/config.ts';
import { ExportGate } from './export/gate.ts';
import { buildApp } from './http/app.ts';
import { ReportEngine } from './reports/engine.ts';
import { LinkSigner } from './delivery/signing.ts';
import { Mailer } from './delivery/channels.ts';
import { DeliveryRenderer } from './delivery/render.ts';
import { DeliveryWorker } from './delivery/worker.ts';
import { AlertEvaluator } from './alerts/evaluator.ts';
import { openMeta, type MetaDb } from './meta/db.ts';
import { reportCatalogue } from './reports/registry.ts';
import { Store } from './store/duckdb.ts';
import type { FastifyBaseLogger } from 'fastify';
import { listRejects } from './store/rejects.ts';
import { storedSource } from './store/source-record.ts';
import { dataAsOf } from './store/data-as-of.ts';
import { redactSourceUrl, SourceMismatchError } from './source/identity.ts';
import { removeDemoUsers } from './auth/users.ts';

const DEMO_PASSWORD = 'callboard-demo';
const DEMO_USERS = [
  { email: 'admin@callboard.local', role: 'admin' as const },
  { email: 'partner@callboard.local', role: 'partner' as const, partnerId: 1 },
  { email: 'acme@callboard.local', role: 'account' as const, accountId: 1, firstName: 'Acme', lastName: 'Manager' },
];

/** The source URL to sync from; with none configured, the demo source (generated once). */
async function ensureSource(config: Config, say: (s: string) => void): Promise<{ url: string; demo: boolean }> {
  if (config.source) return { url: config.source, demo: false };
  const file = paths(config).demoSource;
  const url = `sqlite:${file}`;
  if (!fs.existsSync(file)) {
    // A store built from an earlier demo source is rebuilt from the new one, never merged.
    if (fs.existsSync(paths(config).store)) fs.writeFileSync(paths(config).rebuildFlag, 'the demo source was generated anew\n');
    say(`No CALLBOARD_SOURCE configured: generating a demo source of ${config.demoCalls.toLocaleString('en')} calls over the last 120 days at ${file} …`);
    let last = 0;
    await generateSource({
      url: `sqlite:${file}.tmp`, calls: config.demoCalls,
      onProgress: (done, total) => {
        const pct = Math.floor((done / total) * 10);
        if (pct > last) say(`  … ${pct * 10}%`);
        last = pct;
      },
    });
    fs.renameSync(`${file}.tmp`, file); // a half-written demo source is never mistaken for a whole one
  }
  return { url, demo: true };
}

/** Creates the demo users on a metadata store that has no user yet; true when it did. */
async function ensureDemoUsers(meta: MetaDb): Promise<boolean> {
  const any = await meta.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return false;
  for (const u of DEMO_USERS) await addUser(meta, { password: DEMO_PASSWORD, ...u });
  return true;
}

/** The demo logins and a ready-to-copy login and report request, shown once the data is there. */
function demoLogins(config: Config, port: number): string {
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  return [
    'Demo users (password for each: ' + DEMO_PASSWORD + '):',
    ...DEMO_USERS.map((u) => `  ${u.email.padEnd(26)} ${u.role}${u.accountId ? ` of account ${u.accountId}` : ''}${u.partnerId ? ` ${u.partnerId}` : ''}`),
    `The web console: ${base}/ (sign in as one of them)`,
    'Log in and fetch a report:',
    `  TOKEN=$(curl -s -X POST ${base}/api/accounts/login/ -H 'Content-Type: application/json' -d '{"email":"acme@callboard.local","password":"${DEMO_PASSWORD}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.token.access')`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/api/telesales/reports/dashboard?date_from=${new Date(Date.now() - 29 * 86400_000).toISOString().slice(0, 10)}&date_to=${new Date().toISOString().slice(0, 10)}&timezone=America/New_York'`,
  ].join('\n');
}

/**
 * Shows a running first sync's progress until `stop` is called: a bar redrawn in place
 * on a terminal, a log line every tenth of the way otherwise.
 */
function showFirstSync(sync: SyncJob, say: (s: string) => void, out: NodeJS.WriteStream = process.stdout): () => void {
  let shown = -1;
  const timer = setInterval(() => {
    const p = sync.progress;
    if (!p) return;
    const pct = p.total ? Math.min(99, Math.floor((p.rows * 100) / p.total)) : null;
    const rows = `${p.rows.toLocaleString('en')}${p.total ? ` of about ${p.total.toLocaleString('en')}` : ''} rows`;
    if (out.isTTY) {
      const filled = Math.round((pct ?? 0) / 5);
      out.write(`\rFirst sync [${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${pct ?? '?'}% ${rows}   `);
    } else if (pct === null ? p.rows > shown : Math.floor(pct / 10) > shown) {
      shown = pct === null ? p.rows : Math.floor(pct / 10);
      say(`First sync: ${rows}${pct === null ? '' : ` (${pct}%)`} …`);
    }
  }, 500);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (out.isTTY) out.write('\n');
  };
}

/** Where delivered files are kept (for their signed links). */
export function deliveryDir(config: Config): string {
  return path.join(config.exportsDir, 'deliveries');
}

/** Where the monthly billing files are written. */
export function billingDir(config: Config): string {
  return path.join(config.exportsDir, 'billing');
}

/** Starts the service: store, metadata, first sync, schedule, HTTP. */
export async function serve(config: Config, say: (s: string) => void = (s) => console.log(s)): Promise<{ close: () => Promise<void> }> {
  const p = paths(config);
  // Templates are checked first: a bad file stops start-up before any work is done.
  const reports = reportCatalogue(config.callerIdThresholds);
  let templates: TemplateStore;
  try {
    templates = TemplateStore.load(config.templatesDir, reports);
  } catch (err) {
    throw new ConfigError(`CALLBOARD_TEMPLATES_DIR: ${(err as Error).message}`);
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const meta = await openMeta(p.meta);
  await markInterruptedRuns(meta);
  const source = await ensureSource(config, say);
  const store = await Store.open(p.store, storeMemory(config));
  const sync = new SyncJob(store, meta, source.url, syncJobOptions(config, p.rebuildFlag));
  // Another source stops start-up, unless a rebuild is pending (the first sync carries it
  // out). A source that is down does not: every sync checks again before it loads.
  if (!fs.existsSync(p.rebuildFlag)) {
    try {
      await sync.checkSource();
    } catch (err) {
      if (err instanceof SourceMismatchError) {
        await store.close();
        await meta.destroy();
        throw err;
      }
    }
  }
  // The demo users log in only while the source is the demo source: over real data they
  // would be well-known passwords.
  if (!source.demo) await removeDemoUsers(meta, DEMO_USERS.map((u) => u.email));
  const controlToken = crypto.randomBytes(24).toString('base64url');
  const exportSettings = { templates, gate: new ExportGate(config.exportConcurrency, config.exportQueue) };
  const secret = jwtSecret(config);
  const deliveries = deliveryDir(config);
  // One engine for the API, the console, deliveries and alerts.
  const engine = new ReportEngine(store);
  const links = new LinkSigner(secret);
  const mailer = config.smtpUrl ? new Mailer(config.smtpUrl, config.mailFrom) : null;
  const worker = new DeliveryWorker({
    meta, store, links, mailer, publicUrl: config.publicUrl, allowPrivateWebhooks: config.webhookAllowPrivate, maxAttachBytes: config.mailMaxBytes, linkTtlSec: config.deliveryLinkTtlSec,
    renderer: new DeliveryRenderer(engine, reports, deliveries, exportSettings),
  });
  const alerts = new AlertEvaluator({ meta, store, engine, catalogue: reports });
  const app = await buildApp({
    store, meta, jwtSecret: secret, reports, logLevel: config.logLevel, engine,
    exports: exportSettings,
    delivery: { worker, links, dir: deliveries, limits: { allowPrivateWebhooks: config.webhookAllowPrivate }, email: mailer !== null },
    corsOrigins: config.corsOrigins,
    readyMaxFailingSec: config.readyMaxFailingSec, syncTimeoutSec: config.syncTimeoutSec, loginLimits: config.loginLimits,
    syncProgress: () => sync.progress,
    control: {
      token: controlToken, sync: () => sync.run(), reset: () => sync.reset(), billing: (month) => billing.run(month),
      source: () => storedSource(store),
      rejects: (table, limit) => listRejects(store, { table, limit }),
    },
  });
  if (source.demo && (await ensureDemoUsers(meta))) say('Demo users created.');
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    await store.close();
    await meta.destroy();
    // A port in use or refused is a setting to change, not a crash to read.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`PORT: ${config.host}:${config.port} is already in use; stop what listens there or set PORT (and HOST)`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new ConfigError(`HOST/PORT: cannot listen on ${config.host}:${config.port} (${code})`);
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  fs.writeFileSync(p.server, JSON.stringify({ pid: process.pid, host: config.host, port, controlToken }) + '\n', { mode: 0o600 });
  say(`Callboard listening on http://${config.host}:${port} (store ${p.store}, source ${redactSourceUrl(source.url)}, sync "${config.syncCron}")`);
  // Reports answer 503 until a first sync has finished: the login line comes with the data.
  const loaded = (await dataAsOf(store)) !== null;
  const stopShowing = loaded ? () => undefined : showFirstSync(sync, say);
  if (loaded && source.demo) say(demoLogins(config, port));
  const first = sync.run()
    .then((r) => {
      stopShowing();
      say(`${loaded ? 'Sync' : 'First sync done'}: ${r.read.toLocaleString('en')} rows read, ${r.upserted.toLocaleString('en')} upserted, ${r.rejected} rejected in ${r.ms} ms`);
      if (!loaded && source.demo) say(demoLogins(config, port));
    })
    .catch((err) => {
      stopShowing();
      app.log.error({ err }, 'initial sync failed');
    });
  const billing = new BillingJob(app.engine, meta, billingDir(config), config.billingZone);
  const monitor = new AbandonMonitor(store, meta, config.abandonWindowMinutes);
  const retention = new RetentionJob(store, meta, config.jobRetentionDays, undefined, { dir: deliveries, keepSec: config.deliveryLinkTtlSec });
  const cdr = new CdrImportJob(store, meta, config.cdrDir);
  const schedule = startSchedule([
    {
      name: 'sync', cron: config.syncCron, run: () => sync.run(), busy: () => sync.busy, retry: config.syncRetry,
      summary: (r) => {
        const s = r as { upserted: number; rejected: number; ms: number };
        return s.upserted > 0 || s.rejected > 0 ? { upserted: s.upserted, rejected: s.rejected, ms: s.ms } : null;
      },
    },
    { name: 'monitor', cron: config.monitorCron, run: () => monitor.run(), busy: () => monitor.busy, summary: (r) => ((r as { breaches: number }).breaches > 0 ? (r as object) : null) },
    { name: 'billing', cron: config.billingCron, timezone: config.billingZone, run: () => billing.run(), busy: () => billing.busy, retry: config.syncRetry, summary: (r) => r as object },
    {
      name: 'cdr', cron: config.cdrCron, run: () => cdr.run(), busy: () => cdr.busy,
      summary: (r) => ((r as { files: unknown[] }).files.length ? (r as object) : null),
    },
    {
      // Notices go through the outbox: the delivery worker sends them on its next tick.
      name: 'alerts', cron: config.alertCron, run: () => alerts.run().then(async (r) => (r.notices ? { ...r, sent: await worker.run() } : r)), busy: () => alerts.busy,
      summary: (r) => ((r as { notices: number }).notices ? (r as object) : null),
    },
    {
      name: 'delivery', cron: config.deliveryCron, run: () => worker.run(), busy: () => worker.busy,
      summary: (r) => {
        const c = r as { queued: number; sent: number; failed: number; retrying: number };
        return c.queued || c.sent || c.failed || c.retrying ? c : null;
      },
    },
    { name: 'retention', cron: config.retentionCron, run: () => retention.run(), busy: () => false, summary: (r) => r as object },
  ], app.log);
  const tasks = schedule.tasks;
  const healing = healStore(store, app.log);
  let closed = false;
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      schedule.stop();
      clearInterval(healing);
      // What is running is stopped, not waited for: a hung source or a long query would
      // otherwise hold the process (main bounds the whole shutdown as well).
      sync.stop();
      for (const t of tasks) await t.destroy();
      await first;
      await app.close();
      mailer?.close();
      while (sync.busy || billing.busy || monitor.busy || cdr.busy) await new Promise((r) => setTimeout(r, 50));
      fs.rmSync(p.server, { force: true });
      // A sync given up may still run a query on the writer: it is interrupted until that
      // loading has stopped, and only then is the store closed. One stuck on its source
      // (not in DuckDB) is not waited for past 2 s.
      const nudge = setInterval(() => store.interrupt(), 200);
      await Promise.race([sync.idle(), new Promise((r) => setTimeout(r, 2_000))]);
      clearInterval(nudge);
      await store.close();
      await meta.destroy();
    },
  };
}

/**
 * Heals an invalidated store (a checkpoint DuckDB could not write on a full disk): every
 * 5 s (`everyMs`) while it is unusable the file is opened again, until the disk has room. Meanwhile
 * /healthz fails and requests answer 503. Committed transactions survive the reopen
 * (DuckDB replays its write-ahead log); the next sync continues from its watermarks.
 */
export function healStore(store: Store, log: FastifyBaseLogger, everyMs = 5_000): NodeJS.Timeout {
  let reported: Error | null = null;
  let busy = false;
  const timer = setInterval(() => {
    const fatal = store.fatal;
    if (!fatal || busy) return;
    if (reported !== fatal) log.error({ err: fatal }, 'the store was invalidated by a storage error; reopening it');
    reported = fatal;
    busy = true;
    store.reopen()
      .then(() => log.warn('the store was reopened after a storage error'))
      .catch((err: unknown) => log.warn({ err }, 'the store could not be reopened yet; trying again in 5 s'))
      .finally(() => { busy = false; });
  }, everyMs);
  timer.unref();
  return timer;
}

