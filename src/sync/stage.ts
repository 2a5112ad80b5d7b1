import { DuckDBDataChunk, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { SourceTable } from '../source/contract.ts';
import type { RawRow } from '../source/reader.ts';

const CHUNK = 2048; // DuckDB's vector size: the appender takes whole chunks fastest

/**
 * A staged row is one JSON array text. The node client copies strings into DuckDB one
 * native call at a time, so one string per row instead of one per cell loads about
 * twice as fast; DuckDB splits the array back into columns in the check query, and
 * every value keeps the text the source gave it until validation casts it.
 */
export function stageName(t: SourceTable): string {
  return `stage_${t.name}`;
}

export async function createStage(conn: DuckDBConnection, t: SourceTable): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${stageName(t)} (j VARCHAR)`);
}

/** JSON replacer: booleans as 0/1 (SQLite's form), instants as ISO-8601 UTC. */
function normalise(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Replaces the stage's content with `rows`. */
export async function fillStage(conn: DuckDBConnection, t: SourceTable, rows: readonly RawRow[], plainValues = false): Promise<void> {
  await conn.run(`DELETE FROM ${stageName(t)}`);
  if (rows.length === 0) return;
  const appender = await conn.createAppender(stageName(t), 'main', 'temp');
  try {
    for (let start = 0; start < rows.length; start += CHUNK) {
      const n = Math.min(CHUNK, rows.length - start);
      const chunk = DuckDBDataChunk.create([VARCHAR], n);
      chunk.rowCount = n;
      const values: string[] = new Array(n);
      // SQLite hands back only strings, numbers and null: no replacer needed there.
      for (let i = 0; i < n; i++) values[i] = plainValues ? JSON.stringify(rows[start + i]) : JSON.stringify(rows[start + i], normalise);
      chunk.setColumnValues(0, values);
      appender.appendDataChunk(chunk);
    }
  } finally {
    appender.closeSync();
  }
}

/** The stage as one text column per contract column, under the contract's names. */
export function stageColumns(t: SourceTable): string {
  const paths = t.columns.map((_, i) => `'$[${i}]'`).join(', ');
  const cols = t.columns.map((c, i) => `l[${i + 1}] AS "${c.name}"`).join(', ');
  return `(SELECT ${cols} FROM (SELECT json_extract_string(j, [${paths}]) AS l FROM ${stageName(t)}))`;
}
