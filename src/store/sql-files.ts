import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * The project's sql/ folder, wherever the process was started from: two levels up from
 * src/store under tsx, three from dist/src/store in the compiled build (`npm start`).
 */
const candidates = [path.resolve(here, '../../sql'), path.resolve(here, '../../../sql')];
export const sqlDir = candidates.find((dir) => fs.existsSync(path.join(dir, 'schema'))) ?? candidates[0];

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
