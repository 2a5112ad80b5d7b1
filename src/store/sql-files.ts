import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's sql/ folder, wherever the process was started from. */
export const sqlDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sql');

const cache = new Map<string, string>();

/** Reads a SQL file under sql/ once and keeps it; a report's query is data, not code. */
export function readSql(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) {
    text = fs.readFileSync(path.join(sqlDir, relative), 'utf8');
    cache.set(relative, text);
  }
  return text;
}
