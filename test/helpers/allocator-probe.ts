/**
 * Run as a child process by test/export/allocator.test.ts, with the environment under
 * test: opens a Store (a fresh file in the directory given), runs one query that sorts a
 * few hundred MB on each of two connections at once, then the same pair `rounds` times
 * more, and prints the process's peak resident memory (MiB) after the first pair and after
 * them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../../src/store/duckdb.ts';

const [dir, rounds] = [process.argv[2], Number(process.argv[3] ?? 20)];
const peak = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024);
const store = await Store.open(path.join(dir, 'probe.duckdb'), { memoryLimit: 2 ** 30, tempDir: path.join(dir, 'tmp') });
const sort = `SELECT count(*) AS n FROM (SELECT range AS i, repeat('x', 40) || range::VARCHAR AS s FROM range(1000000) ORDER BY s DESC)`;
const pair = () => Promise.all([store.all(sort), store.all(sort)]);
// Peak memory counts from here: what opening the store took is not the queries'.
fs.writeFileSync('/proc/self/clear_refs', '5');
await pair();
const first = peak();
for (let i = 0; i < rounds; i++) await pair();
const all = peak();
await store.close();
fs.writeSync(1, JSON.stringify({ first, all, growth: all - first }) + '\n');
