import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TemplateStore } from './export/templates.ts';
import { generateSource } from '../fixtures/generate.ts';
import { markInterruptedRuns, SyncJob } from '../jobs/sync.ts';
import { startSchedule } from '../jobs/schedule.ts';
import { BillingJob } from '../jobs/billing.ts';
import { AbandonMonitor } from '../jobs/abandon-monitor.ts';
import { RetentionJob } from '../jobs/retention.ts';
import { CdrImportJob } from '../jobs/cdr-import.ts';
import { addUser } from './auth/users.ts';
import { jwtSecret, paths, type Config, ConfigError } from './config/config.ts';
import { buildApp } from './http/app.ts';
import { openMeta, type MetaDb } from './meta/db.ts';
import { reportRegistry } from './reports/registry.ts';
import { Store } from './store/duckdb.ts';
import { listRejects } from './store/rejects.ts';

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

async function ensureDemoUsers(meta: MetaDb, config: Config, say: (s: string) => void): Promise<void> {
  const any = await meta.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return;
  for (const u of DEMO_USERS) await addUser(meta, { password: DEMO_PASSWORD, ...u });
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  say([
    'Demo users created (password for each: ' + DEMO_PASSWORD + '):',
    ...DEMO_USERS.map((u) => `  ${u.email.padEnd(26)} ${u.role}${u.accountId ? ` of account ${u.accountId}` : ''}${u.partnerId ? ` ${u.partnerId}` : ''}`),
    'Log in and fetch a report:',
    `  TOKEN=$(curl -s -X POST ${base}/api/accounts/login/ -H 'Content-Type: application/json' -d '{"email":"acme@callboard.local","password":"${DEMO_PASSWORD}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.token.access')`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/api/telesales/reports/dashboard?date_from=${new Date(Date.now() - 29 * 86400_000).toISOString().slice(0, 10)}&date_to=${new Date().toISOString().slice(0, 10)}&timezone=America/New_York'`,
  ].join('\n'));
}

/** Where the monthly billing files are written. */
export function billingDir(config: Config): string {
  return path.join(config.exportsDir, 'billing');
}

/** Starts the service: store, metadata, first sync, schedule, HTTP. */
export async function serve(config: Config, say: (s: string) => void = (s) => console.log(s)): Promise<{ close: () => Promise<void> }> {
  const p = paths(config);
  // Templates are checked first: a bad file stops start-up before any work is done.
  const reports = reportRegistry(config.callerIdThresholds);
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
  const store = await Store.open(p.store);
  const sync = new SyncJob(store, meta, source.url, { batchSize: config.syncBatchSize });
  const controlToken = crypto.randomBytes(24).toString('base64url');
  const app = await buildApp({
    store, meta, jwtSecret: jwtSecret(config), reports, logLevel: config.logLevel, exports: { templates },
    readyMaxFailingSec: config.readyMaxFailingSec,
    control: {
      token: controlToken, sync: () => sync.run(), billing: (month) => billing.run(month),
      rejects: (table, limit) => listRejects(store, { table, limit }),
    },
  });
  if (source.demo) await ensureDemoUsers(meta, config, say);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  fs.writeFileSync(p.server, JSON.stringify({ pid: process.pid, host: config.host, port, controlToken }) + '\n', { mode: 0o600 });
  say(`Callboard listening on http://${config.host}:${port} (store ${p.store}, source ${source.url}, sync "${config.syncCron}")`);
  const first = sync.run()
    .then((r) => say(`Initial sync: ${r.read.toLocaleString('en')} rows read, ${r.upserted.toLocaleString('en')} upserted, ${r.rejected} rejected in ${r.ms} ms`))
    .catch((err) => app.log.error({ err }, 'initial sync failed'));
  const billing = new BillingJob(app.engine, meta, billingDir(config), config.billingZone);
  const monitor = new AbandonMonitor(store, meta, config.abandonWindowMinutes);
  const retention = new RetentionJob(store, meta, config.jobRetentionDays);
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
    { name: 'retention', cron: config.retentionCron, run: () => retention.run(), busy: () => false, summary: (r) => r as object },
  ], app.log);
  const tasks = schedule.tasks;
  let closed = false;
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      schedule.stop();
      for (const t of tasks) await t.destroy();
      await first;
      await app.close();
      while (sync.busy || billing.busy || monitor.busy || cdr.busy) await new Promise((r) => setTimeout(r, 50));
      fs.rmSync(p.server, { force: true });
      await store.close();
      await meta.destroy();
    },
  };
}
