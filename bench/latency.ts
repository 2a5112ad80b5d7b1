/**
 * Freshness latency: from a change in the source (a corrected call duration) to the
 * change being visible in a report over HTTP, with the sync on a one-second schedule,
 * on the source and store an earlier `npm run bench` left in bench-data/ (goal: < 2 s).
 *   BENCH_CALLS=10000000 npx tsx bench/latency.ts
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { SyncJob } from '../jobs/sync.ts';
import { startSchedule } from '../jobs/schedule.ts';
import { Store } from '../src/store/duckdb.ts';
import { serveBench } from './serve.ts';

const calls = Number(process.env.BENCH_CALLS ?? 10_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const sourceFile = path.resolve('bench-data', `source-${calls}.db`);
const store = await Store.open(path.resolve('bench-data', `store-${calls}.duckdb`));
const { app, meta, base, token } = await serveBench(store);

const sync = new SyncJob(store, meta, `sqlite:${sourceFile}`);
await sync.run(); // catch up with whatever earlier runs changed
const schedule = startSchedule([{ name: 'sync', cron: '* * * * * *', run: () => sync.run(), busy: () => sync.busy }], { info: () => undefined, warn: () => undefined, error: () => undefined });

const db = new Database(sourceFile);
const url = `${base}/api/telesales/reports/dashboard?date_from=2026-11-01&date_to=2026-11-24&account_id=1`;
const talk = async () => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { data: { total_talk_time_sec: string } }).data.total_talk_time_sec;
};
const pick = db.prepare(`SELECT id FROM calls WHERE account_id = 1 AND direction = 'outbound' AND status = 'completed' AND started_at >= '2026-11-05' AND started_at < '2026-11-20' LIMIT 1 OFFSET ?`);
const top = db.prepare(`SELECT max(updated_at) AS t FROM calls`);
const change = db.prepare(`UPDATE calls SET talk_sec = talk_sec + 11, updated_at = ? WHERE id = ?`);
const ms: number[] = [];
for (let i = 0; i < rounds; i++) {
  const before = await talk();
  const { id } = pick.get(i * 97) as { id: number };
  const at = new Date(Math.max(Date.parse((top.get() as { t: string }).t), Date.now()) + 1000).toISOString();
  const t0 = performance.now();
  change.run(at, id);
  while ((await talk()) === before) await new Promise((r) => setTimeout(r, 20));
  ms.push(performance.now() - t0);
}
const sorted = [...ms].sort((a, b) => a - b);
console.log(`source change → visible in the dashboard over HTTP, sync every second, ${rounds} changes on ${calls.toLocaleString('en')} calls:`);
console.log(`  p50 ${sorted[Math.floor(rounds / 2)].toFixed(0)} ms, p95 ${sorted[Math.min(rounds - 1, Math.floor(rounds * 0.95))].toFixed(0)} ms, max ${sorted[rounds - 1].toFixed(0)} ms (goal: under 2,000 ms)`);
schedule.stop();
for (const task of schedule.tasks) await task.destroy();
while (sync.busy) await new Promise((r) => setTimeout(r, 50));
db.close();
await app.close();
await store.close();
