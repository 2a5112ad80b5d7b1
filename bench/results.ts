import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The figures of one bench run as data: each script records what it prints, and the run
 * writes them to bench/results/<date>-<commit>.json, so the history lives in git and the
 * tables of BENCHMARKS.md come from these files.
 */
const figures: Record<string, unknown> = {};

/** Records one figure under a dotted key (`sync.first.rows_per_s`). */
export function record(key: string, value: unknown): void {
  figures[key] = typeof value === 'number' ? Math.round(value * 10) / 10 : value;
}

/** Writes the run's figures with the machine and commit they were measured on; returns the file. */
export function writeResults(dir = path.join(import.meta.dirname, 'results')): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the file says so
  }
  const at = new Date().toISOString();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${at.slice(0, 10)}-${commit}.json`);
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  // Scripts run alone (bench:cache, bench:login …) on the same commit add to one file.
  const earlier = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { figures?: Record<string, unknown> }).figures ?? {} : {};
  fs.writeFileSync(file, `${JSON.stringify({ at, commit, machine, figures: { ...earlier, ...figures } }, null, 1)}\n`);
  return file;
}
