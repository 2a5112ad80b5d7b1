/**
 * Login used against the service: the dashboard's p50/p95 while idle, then while 32
 * clients send wrong passwords as fast as they can, in the same run (goal: p95 within 2×
 * of idle). Twice: with the login limits as configured (most tries answered 429), and with
 * the limits lifted, so every try is hashed: what hashing off the event loop holds alone.
 *   BENCH_CALLS=10000000 npx tsx bench/login-flood.ts   (on the store `npm run bench` left)
 */
import { spawn } from 'node:child_process';
import type { Store } from '../src/store/duckdb.ts';
import { record } from './results.ts';
import { latency, serveBench, whenRunAlone } from './serve.ts';

const CLIENTS = 32;

/** `node -e FLOODER BASE N`: N clients sending wrong passwords until SIGTERM, then their statuses as JSON. */
const FLOODER = `
const [base, n] = process.argv.slice(1);
const statuses = {};
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const client = async (i) => {
  while (!stop) {
    try {
      const res = await fetch(base + '/api/accounts/login/', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: i % 2 ? 'bench@local' : 'nobody' + i + '@local', password: 'wrong-' + Math.random() }) });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] || 0) + 1;
    } catch { statuses.error = (statuses.error || 0) + 1; }
  }
};
Promise.all(Array.from({ length: Number(n) }, (_, i) => client(i))).then(() => { process.stdout.write(JSON.stringify(statuses)); });
`;

export async function loginFlood(store: Store, requests: number): Promise<void> {
  console.log(`\nlogin flood: dashboard latency while ${CLIENTS} clients send wrong passwords (goal: p95 within 2× of idle):`);
  const modes = [
    { key: 'limited', label: 'login limits as configured', loginLimits: undefined },
    { key: 'unlimited', label: 'limits lifted (every try hashed)', loginLimits: { perClientPerMinute: 1e9, perAccountPerQuarterHour: 1e9 } },
  ];
  for (const mode of modes) {
    const { app, base, token, meta } = await serveBench(store, undefined, { loginLimits: mode.loginLimits });
    const url = `${base}/api/telesales/reports/dashboard?date_from=2026-09-01&date_to=2026-11-23&timezone=America/New_York&account_id=1`;
    const dashboard = async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`dashboard: ${res.status}`);
      await res.arrayBuffer();
    };
    const idle = await latency(dashboard, requests);
    // The attackers run in a process of their own, as they would: only the server's work
    // for their tries shares this event loop.
    const flooder = spawn(process.execPath, ['-e', FLOODER, base, String(CLIENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const report = new Promise<string>((resolve) => {
      let out = '';
      flooder.stdout!.on('data', (d) => (out += d));
      flooder.on('exit', () => resolve(out));
    });
    const started = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const flood = await latency(dashboard, requests);
    flooder.kill('SIGTERM');
    const statuses = new Map(Object.entries(JSON.parse((await report).trim() || '{}') as Record<string, number>).map(([k, v]) => [Number(k), v]));
    const seconds = (performance.now() - started) / 1000;
    const tries = [...statuses.values()].reduce((a, b) => a + b, 0);
    const ratio = flood.p95 / idle.p95;
    const answered = [...statuses].map(([s, n]) => `${n} × ${s}`).join(', ');
    console.log(`  ${mode.label.padEnd(36)} idle p50/p95 ${idle.p50.toFixed(1)}/${idle.p95.toFixed(1)} ms, flooded ${flood.p50.toFixed(1)}/${flood.p95.toFixed(1)} ms = ${ratio.toFixed(2)}× idle p95; ${Math.round(tries / seconds)} tries/s (${answered})`);
    record(`login_flood.${mode.key}.idle_p95_ms`, idle.p95);
    record(`login_flood.${mode.key}.flooded_p95_ms`, flood.p95);
    record(`login_flood.${mode.key}.p95_ratio`, ratio);
    record(`login_flood.${mode.key}.tries_per_s`, tries / seconds);
    await app.close();
    await meta.destroy();
  }
}

await whenRunAlone(import.meta.url, (store) => loginFlood(store, Number(process.env.BENCH_REQUESTS ?? 40)));
