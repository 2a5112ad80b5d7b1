import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { generateSource } from '../../fixtures/generate.ts';
import { addUser } from '../../src/auth/users.ts';
import { buildApp, type AppOptions } from '../../src/http/app.ts';
import { openMeta, type MetaDb } from '../../src/meta/db.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { connectSource } from '../../src/source/connect.ts';
import { Store } from '../../src/store/duckdb.ts';
import { syncOnce } from '../../src/sync/sync.ts';

/** "Now" of the test fixture: 120 days back covers a US and a UK DST change and the 2026-W53/2027-W01 turn. */
export const FIXTURE_NOW = new Date('2027-01-10T12:00:00Z');
export const JWT_SECRET = 'test-secret-test-secret-test-secret-42';
export const PASSWORD = 'password-123';

export function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `callboard-${name}-`));
}

/** A generated SQLite source in a fresh temporary directory. */
export async function makeSource(dir: string, calls = 6000, seed = 7): Promise<string> {
  const file = path.join(dir, 'source.db');
  await generateSource({ url: `sqlite:${file}`, calls, now: FIXTURE_NOW, days: 120, seed });
  return file;
}

export async function syncInto(storeFile: string, sourceFile: string, batchSize = 50_000) {
  const store = await Store.open(storeFile);
  const source = connectSource(`sqlite:${sourceFile}`);
  const result = await syncOnce(store, source, { batchSize });
  await source.close();
  return { store, result };
}

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  meta: MetaDb;
  sourceFile: string;
  token: (email: string) => Promise<string>;
  get: (url: string, email: string) => Promise<{ status: number; body: any }>;
  close: () => Promise<void>;
}

/** Source, synced store, metadata with users of every role, and the real app. */
/** `mutate` edits the generated source before the sync, for rows the generator never makes. */
export async function makeApp(name: string, calls = 6000, mutate?: (db: Database.Database) => void, appOpts: Partial<AppOptions> | ((store: Store, meta: MetaDb, dir: string) => Partial<AppOptions>) = {}): Promise<TestApp> {
  const dir = tmpDir(name);
  const sourceFile = await makeSource(dir, calls);
  if (mutate) {
    const db = new Database(sourceFile);
    try {
      mutate(db);
    } finally {
      db.close();
    }
  }
  const { store } = await syncInto(path.join(dir, 'store.duckdb'), sourceFile);
  const meta = await openMeta(path.join(dir, 'meta.db'));
  await addUser(meta, { email: 'admin@test', password: PASSWORD, role: 'admin' });
  await addUser(meta, { email: 'partner1@test', password: PASSWORD, role: 'partner', partnerId: 1 });
  await addUser(meta, { email: 'partner2@test', password: PASSWORD, role: 'partner', partnerId: 2 });
  await addUser(meta, { email: 'acct1@test', password: PASSWORD, role: 'account', accountId: 1 });
  await addUser(meta, { email: 'acct2@test', password: PASSWORD, role: 'account', accountId: 2 });
  const more = typeof appOpts === 'function' ? appOpts(store, meta, dir) : appOpts;
  const app = await buildApp({ store, meta, jwtSecret: JWT_SECRET, reports: reportCatalogue(), now: () => FIXTURE_NOW, logLevel: 'silent', ...more });
  const tokens = new Map<string, string>();
  const token = async (email: string) => {
    let t = tokens.get(email);
    if (!t) {
      const res = await app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email, password: PASSWORD } });
      t = res.json().data.token.access as string;
      tokens.set(email, t);
    }
    return t;
  };
  return {
    app, store, meta, sourceFile, token,
    get: async (url, email) => {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await token(email)}` } });
      return { status: res.statusCode, body: res.json() };
    },
    close: async () => {
      await app.close();
      await store.close();
      await meta.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every row of a source table, as the source holds it. */
export function sourceRows(file: string, table: string): Record<string, any>[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, any>[];
  } finally {
    db.close();
  }
}
