import { DuckDBDataChunk, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import type { SourceTable } from '../source/contract.ts';
import type { SourceRecord } from '../source/reader.ts';

const RUN = 2048; // rows per staged string: DuckDB's vector size

/**
 * A staged row is the JSON array text the source built for it. The node client copies
 * strings into DuckDB one native call at a time, so one string per row instead of one
 * per cell loads several times faster; DuckDB splits the array back into columns in the
 * check query, and every value keeps the text the source gave it until validation casts it.
 */
export function stageName(t: SourceTable): string {
  return `stage_${t.name}`;
}

export async function createStage(conn: DuckDBConnection, t: SourceTable): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${stageName(t)} (j VARCHAR)`);
}

/** Replaces the stage's content with `rows` (see fillStageText). */
export async function fillStage(conn: DuckDBConnection, t: SourceTable, rows: readonly SourceRecord[]): Promise<void> {
  await fillStageText(conn, t, rows.map((r) => r.json).join('\n'), rows.length);
}

/**
 * Replaces the stage's content with the rows of `text` (newline-separated), cut at
 * newlines into runs of about RUN rows: JSON escapes every newline inside a value, so a
 * newline only ever separates rows, and the appender copies a few large strings instead
 * of one per row.
 */
export async function fillStageText(conn: DuckDBConnection, t: SourceTable, text: string, rows: number): Promise<void> {
  const runs: string[] = [];
  const step = Math.max(1, Math.ceil(text.length / Math.max(1, Math.ceil(rows / RUN))));
  for (let start = 0; start < text.length;) {
    const cut = text.indexOf('\n', Math.min(text.length, start + step));
    const end = cut < 0 ? text.length : cut;
    runs.push(text.slice(start, end));
    start = end + 1;
  }
  await appendRuns(conn, t, runs);
}

async function appendRuns(conn: DuckDBConnection, t: SourceTable, runs: string[]): Promise<void> {
  await conn.run(`DELETE FROM ${stageName(t)}`);
  if (runs.length === 0) return;
  const appender = await conn.createAppender(stageName(t), 'main', 'temp');
  try {
    const chunk = DuckDBDataChunk.create([VARCHAR], runs.length);
    chunk.rowCount = runs.length;
    chunk.setColumnValues(0, runs);
    appender.appendDataChunk(chunk);
  } finally {
    appender.closeSync();
  }
}

/** The stage as one text column per contract column, under the contract's names, and the row's text as `_line`. */
export function stageColumns(t: SourceTable): string {
  const cols = t.columns.map((c, i) => `l[${i + 1}] AS "${c.name}"`).join(', ');
  return `(SELECT _line, ${cols} FROM (SELECT _line, from_json(_line, '["VARCHAR"]') AS l FROM (SELECT unnest(string_split(j, chr(10))) AS _line FROM ${stageName(t)})))`;
}
