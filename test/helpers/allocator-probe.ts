/**
 * Run as a child process by test/store/allocator.test.ts: opens a Store (a fresh file in
 * the directory given), runs one query that makes DuckDB allocate and free a few hundred
 * MB, then prints the process's resident memory (MiB) before the query, right after it,
 * and the lowest seen in the `settle` seconds after, polled while the store is idle.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src/store/duckdb.ts';

const [dir, settle] = [process.argv[2], Number(process.argv[3] ?? 10)];
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const store = await Store.open(path.join(dir, 'probe.duckdb'), { memoryLimit: 2 ** 30, tempDir: path.join(dir, 'tmp') });
const before = rss();
await store.all(`SELECT count(*) AS n FROM (SELECT range AS i, repeat('x', 40) || range::VARCHAR AS s FROM range(3000000) ORDER BY s DESC)`);
const after = rss();
let idle = after;
for (const end = Date.now() + settle * 1000; Date.now() < end && idle > before + 32;) {
  await new Promise((r) => setTimeout(r, 100));
  idle = Math.min(idle, rss());
}
await store.close();
fs.writeSync(1, JSON.stringify({ before, after, idle }) + '\n');
