import type { FastifyInstance } from 'fastify';
import { addUser } from '../src/auth/users.ts';
import { buildApp, type AppOptions } from '../src/http/app.ts';
import { openMeta, type MetaDb } from '../src/meta/db.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Store } from '../src/store/duckdb.ts';
import { writeResults } from './results.ts';

/** The store `npm run bench` leaves under bench-data/ (`BENCH_CALLS` calls, 10M by default). */
export const benchStoreFile = (): string => path.resolve('bench-data', `store-${Number(process.env.BENCH_CALLS ?? 10_000_000)}.duckdb`);

/**
 * Runs one bench alone (`npx tsx bench/<name>.ts`) on the store an earlier `npm run bench`
 * left, then writes its figures; nothing when the module is imported by bench/run.ts.
 */
export async function whenRunAlone(moduleUrl: string, fn: (store: Store) => Promise<void>): Promise<void> {
  if (moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const store = await Store.open(benchStoreFile());
  try {
    await fn(store);
  } finally {
    await store.close();
  }
  console.log(`results: ${writeResults()}`);
}

/** The bench's "now": the generated source ends here. */
export const BENCH_NOW = new Date('2026-11-24T12:00:00Z');

/**
 * The real app on a local port over `store`, and an admin's access token. The result
 * cache is off unless `appOpts` sets it: latency figures time the reports, not the cache.
 */
export async function serveBench(store: Store, now = BENCH_NOW, appOpts: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; meta: MetaDb; base: string; token: string }> {
  const meta = await openMeta(':memory:');
  await addUser(meta, { email: 'bench@local', password: 'bench-password', role: 'admin' });
  const app = await buildApp({ store, meta, jwtSecret: 'bench-secret-bench-secret-bench-secret', reports: reportCatalogue(), now: () => now, logLevel: 'silent', cacheBytes: 0, ...appOpts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const login = await fetch(`${base}/api/accounts/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@local', password: 'bench-password' }) });
  const token = ((await login.json()) as { data: { token: { access: string } } }).data.token.access;
  return { app, meta, base, token };
}

const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** p50 and p95 of `n` sequential calls of `fn`, after one warm-up call. */
export async function latency(fn: () => Promise<unknown>, n: number): Promise<{ p50: number; p95: number; all: number[] }> {
  await fn();
  const all: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    all.push(performance.now() - t0);
  }
  return { p50: pctl(all, 50), p95: pctl(all, 95), all };
}
