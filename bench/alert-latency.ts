/**
 * Alert latency end to end: the real server (`callboard serve`, its default schedule: a
 * sync every minute, the alert rules at :30) on a demo source whose calls end now. An
 * abandon-rate alert is set just above a campaign's rate; then abandoned calls are written
 * into the source, and the time until the webhook receiver gets the notice is measured
 * (goal: under 2 minutes). `BENCH_ALERT_ROUNDS` rounds (2), each on a fresh level.
 *   npx tsx bench/alert-latency.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { generateSource } from '../fixtures/generate.ts';
import { record, writeResults } from './results.ts';

const rounds = Number(process.env.BENCH_ALERT_ROUNDS ?? 2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callboard-bench-alert-'));
const sourceFile = path.join(dir, 'source.db');
await generateSource({ url: `sqlite:${sourceFile}`, calls: 20_000, now: new Date(), days: 30, seed: 11 });

const notices: { at: number; body: string }[] = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => { notices.push({ at: Date.now(), body: Buffer.concat(chunks).toString() }); res.writeHead(204).end(); });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const env = { ...process.env, CALLBOARD_DATA_DIR: path.join(dir, 'data'), CALLBOARD_SOURCE: `sqlite:${sourceFile}`, PORT: '0', CALLBOARD_WEBHOOK_ALLOW_PRIVATE: 'true', CALLBOARD_LOG_LEVEL: 'warn' };
const cli = (...args: string[]) => spawnSync(process.execPath, [path.resolve('bin/callboard.js'), ...args], { env, encoding: 'utf8' });
if (cli('users', 'add', '--email', 'ops@bench.local', '--password', 'bench-password', '--role', 'admin').status !== 0) throw new Error('users add failed');
const server = spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const serverFile = path.join(dir, 'data', 'server.json');
const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 300_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
await until('the server', () => fs.existsSync(serverFile));
const { port } = JSON.parse(fs.readFileSync(serverFile, 'utf8')) as { port: number };
const base = `http://127.0.0.1:${port}`;
await until('the first sync', async () => (await fetch(`${base}/readyz`)).status === 200);
const login = await fetch(`${base}/api/accounts/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@bench.local', password: 'bench-password' }) });
const auth = { authorization: `Bearer ${((await login.json()) as { data: { token: { access: string } } }).data.token.access}`, 'content-type': 'application/json' };

const db = new Database(sourceFile);
const [campaign] = db.prepare(`SELECT campaign_id AS id, account_id FROM calls WHERE status = 'abandoned' AND campaign_id IS NOT NULL GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1`).all() as { id: number; account_id: number }[];
const columns = (db.prepare(`PRAGMA table_info(calls)`).all() as { name: string }[]).map((c) => c.name);
const template = db.prepare(`SELECT * FROM calls WHERE campaign_id = ? AND status = 'abandoned' ORDER BY id DESC LIMIT 1`).get(campaign.id) as Record<string, unknown>;
const insert = db.prepare(`INSERT INTO calls (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
const rate = async () => ((await (await fetch(`${base}/api/telesales/reports/abandon-rate?campaign_id=${campaign.id}`, { headers: auth })).json()) as { data: { current: { abandon_rate_pct: number } } }).data.current.abandon_rate_pct;

const latencies: number[] = [];
for (let round = 0; round < rounds; round++) {
  const now = await rate();
  const level = Math.round((now + 0.05) * 100) / 100;
  const created = await fetch(`${base}/api/alerts`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ name: `bench ${round}`, params: { account_id: campaign.account_id }, rule: { type: 'abandon_rate', levels: [level], min_calls: 0 }, channels: [{ type: 'webhook', url: hook }] }),
  });
  if (created.status !== 201) throw new Error(`alert: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: number };
  // Its instances are read once (all below the level) before the condition starts to hold.
  await until('a first evaluation', async () => ((await (await fetch(`${base}/api/subscriptions/${id}`, { headers: auth })).json()) as { states: unknown[] }).states.length > 0, 120_000);
  const seen = notices.length;
  const t0 = Date.now();
  const maxId = (db.prepare(`SELECT max(id) AS m FROM calls`).get() as { m: number }).m;
  const stamp = new Date().toISOString();
  db.transaction(() => {
    for (let i = 1; i <= 60; i++) insert.run({ ...template, id: maxId + i, started_at: stamp, answered_at: stamp, ended_at: stamp, updated_at: stamp });
  })();
  await until('the notice', () => notices.slice(seen).some((n) => n.body.includes(`"subscription_id":${id}`) && n.body.includes('"state":"firing"')), 300_000);
  const ms = notices.slice(seen).find((n) => n.body.includes(`"subscription_id":${id}`))!.at - t0;
  latencies.push(ms);
  console.log(`  round ${round + 1}: the rate crossed ${level} % in the source; the notice arrived ${(ms / 1000).toFixed(1)} s later (goal 120 s)`);
  await fetch(`${base}/api/subscriptions/${id}`, { method: 'DELETE', headers: auth });
}
record('alert_end_to_end', { rounds, ms: latencies, worst_ms: Math.max(...latencies), goal_ms: 120_000 });
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
receiver.close();
db.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(`results: ${writeResults()}`);
