import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { makeSource, PASSWORD, tmpDir } from '../helpers/fixture.ts';
import { webhookReceiver } from '../helpers/delivery.ts';

// The server killed with SIGKILL while a webhook delivery is in flight, then started again:
// the occurrence is sent again under the same webhook-id, never under a second one.
const dir = tmpDir('delivery-crash');
const sourceFile = await makeSource(dir, 1500);
const dataDir = path.join(dir, 'data');
const rx = await webhookReceiver(['hang', 200]);
t.teardown(async () => {
  await rx.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const env = {
  ...process.env, CALLBOARD_DATA_DIR: dataDir, CALLBOARD_SOURCE: `sqlite:${sourceFile}`, PORT: '0',
  CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn',
  CALLBOARD_DELIVERY_CRON: '* * * * * *', CALLBOARD_WEBHOOK_ALLOW_PRIVATE: 'true',
};
const cli = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/callboard.js'), ...args], { env, encoding: 'utf8' });
const serve = (): ChildProcess => spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('kill -9 during a webhook delivery, then a restart', async (t) => {
  t.equal(cli('users', 'add', '--email', 'ops@test', '--password', PASSWORD, '--role', 'admin').status, 0);
  const add = cli('subscriptions', 'add', '--user', 'ops@test', '--name', 'Wallboard feed', '--report', 'company/dashboard', '--format', 'html',
    '--cron', '0 0 1 1 *', '--zone', 'UTC', '--webhook', rx.url);
  t.equal(add.status, 0, add.stderr);
  const secret = /signing secret (whsec_\S+)/.exec(add.stdout)![1];
  // A yearly schedule, so no other run comes round during the test; its run came while
  // the service was down: due as soon as the server starts.
  const db = new Database(path.join(dataDir, 'meta.db'));
  db.prepare(`UPDATE subscriptions SET next_run_at = ?`).run(new Date(Date.now() - 60_000).toISOString());

  const first = serve();
  await until('the first attempt to reach the receiver', () => rx.received.length >= 1);
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const held = db.prepare(`SELECT id, status FROM deliveries`).all() as { id: string; status: string }[];
  t.match(held, [{ status: 'sending' }], 'killed mid-send: the row is still held');

  const second = serve();
  t.teardown(() => { second.kill('SIGKILL'); });
  await until('a delivered attempt', () => rx.received.some((r) => r.answered === 200));
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));

  const wh = new Webhook(secret);
  const byOccurrence = new Map<string, Set<string>>();
  for (const r of rx.received) {
    const body = wh.verify(r.body, r.headers) as { data: { occurrence: string } };
    byOccurrence.set(body.data.occurrence, (byOccurrence.get(body.data.occurrence) ?? new Set()).add(r.headers['webhook-id']));
  }
  t.ok(rx.received.length >= 2, 'sent again after the restart');
  for (const [occurrence, ids] of byOccurrence) t.equal(ids.size, 1, `${occurrence}: one webhook-id for every attempt`);
  t.equal(rx.received[0].headers['webhook-id'], held[0].id);
  const rows = db.prepare(`SELECT id, status, attempts FROM deliveries`).all() as { id: string; status: string; attempts: number }[];
  t.equal(rows.length, 1, 'one delivery for the occurrence');
  t.match(rows[0], { id: held[0].id, status: 'sent' });
  db.close();
});
