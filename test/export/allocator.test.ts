import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { tmpDir } from '../helpers/fixture.ts';

// DuckDB's allocator hands freed memory back to the system (src/store/allocator.ts): after
// a query that allocates and frees a few hundred MB, the process's resident memory falls
// back near where it was while the store sits idle. With DuckDB's own allocator settings
// it stays up until the next query allocates.

const probe = (env: NodeJS.ProcessEnv, settleSec: number) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/allocator-probe.ts'), tmpDir('allocator'), String(settleSec)], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { before: number; after: number; idle: number };
};

t.test('freed DuckDB memory goes back to the system while the store is idle', async (t) => {
  const env = { DUCKDB_JE_MALLOC_CONF: undefined };
  const m = probe(env, 20);
  t.ok(m.after - m.before >= 100, `the query holds at least 100 MiB at its peak: ${JSON.stringify(m)}`);
  t.ok(m.idle - m.before < 32, `idle, the store holds less than 32 MiB of it: ${JSON.stringify(m)}`);
});

t.test('DUCKDB_JE_MALLOC_CONF in the environment wins', async (t) => {
  // DuckDB's own decay, and no background thread to act on it while the store is idle.
  const m = probe({ DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:10000,muzzy_decay_ms:10000,background_thread:false' }, 3);
  t.ok(m.idle - m.before >= 100, `the freed memory stays resident: ${JSON.stringify(m)}`);
});
