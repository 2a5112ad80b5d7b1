import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sourceTable } from '../source/contract.ts';
import type { Store } from '../store/duckdb.ts';
import { loadStatements } from './load-sql.ts';
import { createStage, stageName } from './stage.ts';
import { loadBatch } from './load.ts';

/**
 * CDR file import: call records dropped as CSV or Parquet files (the columns of
 * SOURCE.md's calls table) into `<dir>/inbox`. Each file is read by DuckDB's own reader
 * into the same staging, validation, quarantine and upsert as the source sync, in one
 * transaction that also records its name and checksum, so a file loads exactly once and
 * never by halves. A good file moves to `loaded/`; a file DuckDB cannot read, or that
 * lacks a required column, moves to `failed/` beside a `.error.txt` saying why.
 * Files still being written are left alone: names starting with a dot or ending in
 * .part/.tmp, and any file modified within the last `settleMs`.
 */
export interface CdrFileResult {
  file: string;
  status: 'loaded' | 'duplicate' | 'failed' | 'retry';
  upserted?: number;
  rejected?: number;
  error?: string;
}

export interface CdrImportResult {
  files: CdrFileResult[];
  upserted: number;
  rejected: number;
}

const CALLS = sourceTable('calls');
const READABLE = /\.(csv|parquet)$/i;
const IN_PROGRESS = /^\.|\.(part|tmp|partial)$/i;

export function cdrDirs(dir: string) {
  return { inbox: path.join(dir, 'inbox'), loaded: path.join(dir, 'loaded'), failed: path.join(dir, 'failed') };
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function sha256(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

/** Moves `file` into `dir` under its name, or name (2), (3)… when one is there already. */
function moveInto(file: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const { name, ext } = path.parse(file);
  let target = path.join(dir, `${name}${ext}`);
  for (let n = 2; fs.existsSync(target); n++) target = path.join(dir, `${name} (${n})${ext}`);
  fs.renameSync(file, target);
  return target;
}

class FileError extends Error {}

/** Each contract column as the text the validation expects, from the file's own columns. */
async function textColumns(conn: DuckDBConnection, reader: string): Promise<string[]> {
  const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${reader}`)).getRowObjectsJS();
  const types = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
  const missing = CALLS.columns.filter((c) => !c.nullable && !types.has(c.name)).map((c) => c.name);
  if (missing.length) throw new FileError(`missing required column(s): ${missing.join(', ')}`);
  return CALLS.columns.map((c) => {
    const type = types.get(c.name);
    const q = `"${c.name}"`;
    if (type === undefined) return 'NULL';
    if (type.startsWith('TIMESTAMP')) return `strftime(${q}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ')`;
    if (type === 'BOOLEAN') return `CASE WHEN ${q} THEN '1' WHEN NOT ${q} THEN '0' END`;
    return `${q}::VARCHAR`;
  });
}

async function importFile(store: Store, file: string, run?: string): Promise<CdrFileResult> {
  const name = path.basename(file);
  const sum = await sha256(file);
  const seen = await store.all(`SELECT 1 FROM cdr_imports WHERE name = $name AND sha256 = $sum`, { name, sum });
  if (seen.length) return { file: name, status: 'duplicate' };
  const reader = /\.parquet$/i.test(file)
    ? `read_parquet(${literal(file)})`
    : `read_csv(${literal(file)}, header = true, all_varchar = true, strict_mode = true)`;
  return store.withConnection(async (conn) => {
    await createStage(conn, CALLS);
    let columns: string[];
    try {
      columns = await textColumns(conn, reader);
      await conn.run(`INSERT INTO ${stageName(CALLS)} SELECT encode(json_array(${columns.join(', ')})::VARCHAR) FROM ${reader}`);
    } catch (err) {
      throw err instanceof FileError ? err : new FileError((err as Error).message.split('\n')[0]);
    }
    const s = loadStatements(CALLS, { loadedFrom: 'cdr', loadedBy: `CDR file ${name}${run ? ` (${run})` : ''}` });
    const { upserted, rejected } = await loadBatch(store, conn, CALLS, s, {
      extra: (c) => [`INSERT INTO cdr_imports VALUES (${literal(name)}, ${literal(sum)}, ${c.upserted}, ${c.rejected}, now()::TIMESTAMP)`],
    });
    return { file: name, status: 'loaded' as const, upserted, rejected };
  });
}

/** Loads every settled file of the inbox, oldest first. */
export async function importCdrFiles(store: Store, dir: string, opts: { settleMs?: number; now?: () => number; dryRun?: boolean; run?: string } = {}): Promise<CdrImportResult> {
  const dirs = cdrDirs(dir);
  fs.mkdirSync(dirs.inbox, { recursive: true });
  const now = opts.now ?? Date.now;
  const settle = opts.settleMs ?? 2_000;
  const candidates = fs.readdirSync(dirs.inbox)
    .filter((f) => READABLE.test(f) && !IN_PROGRESS.test(f))
    .map((f) => ({ file: path.join(dirs.inbox, f), stat: fs.statSync(path.join(dirs.inbox, f)) }))
    .filter((c) => c.stat.isFile() && Math.max(0, now() - c.stat.mtimeMs) >= settle)
    .sort((a, b) => a.stat.mtimeMs - b.stat.mtimeMs || a.file.localeCompare(b.file));
  const result: CdrImportResult = { files: [], upserted: 0, rejected: 0 };
  if (opts.dryRun) {
    result.files = candidates.map((c) => ({ file: path.basename(c.file), status: 'retry' }));
    return result;
  }
  for (const { file } of candidates) {
    try {
      const r = await importFile(store, file, opts.run);
      moveInto(file, dirs.loaded);
      result.files.push(r);
      result.upserted += r.upserted ?? 0;
      result.rejected += r.rejected ?? 0;
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof FileError) {
        const moved = moveInto(file, dirs.failed);
        fs.writeFileSync(`${moved}.error.txt`, `${message}\n`);
        result.files.push({ file: path.basename(file), status: 'failed', error: message });
      } else {
        // The store was busy (a write conflict with the sync): the file stays for the next run.
        result.files.push({ file: path.basename(file), status: 'retry', error: message });
      }
    }
  }
  return result;
}
