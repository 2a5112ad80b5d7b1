import { isUtf8 } from 'node:buffer';
// Before @duckdb/node-api: it configures DuckDB's allocator, which reads it as it loads.
import '../store/allocator.ts';
import { BLOB, blobValue, DuckDBDataChunk, type DuckDBConnection } from '@duckdb/node-api';
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
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${stageName(t)} (j BLOB)`);
}

/** Replaces the stage's content with `rows` (see fillStageText). */
export async function fillStage(conn: DuckDBConnection, t: SourceTable, rows: readonly SourceRecord[]): Promise<void> {
  await fillStageText(conn, t, rows.map((r) => r.json).join('\n'), rows.length);
}

/**
 * Replaces the stage's content with the rows of `text` (newline-separated), cut at
 * newlines into runs of about RUN rows: JSON escapes every newline inside a value, so a
 * newline only ever separates rows, and the appender copies a few large values instead of
 * one per row. The runs are staged as their UTF-8 bytes, which a byte 0x0A only ever ends
 * (it is never part of a longer UTF-8 sequence); bytes that are not UTF-8 become U+FFFD,
 * as in a string the source driver decodes.
 */
export async function fillStageText(conn: DuckDBConnection, t: SourceTable, text: string | Buffer, rows: number): Promise<void> {
  const runs: Buffer[] = [];
  const step = Math.max(1, Math.ceil(text.length / Math.max(1, Math.ceil(rows / RUN))));
  for (let start = 0; start < text.length;) {
    const cut = text.indexOf('\n', Math.min(text.length, start + step));
    const end = cut < 0 ? text.length : cut;
    runs.push(typeof text === 'string' ? Buffer.from(text.slice(start, end)) : utf8(text.subarray(start, end)));
    start = end + 1;
  }
  await appendRuns(conn, t, runs);
}

const utf8 = (bytes: Buffer): Buffer => (isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8')));

async function appendRuns(conn: DuckDBConnection, t: SourceTable, runs: Buffer[]): Promise<void> {
  // Made anew rather than emptied: DuckDB keeps the long strings of rows deleted from a
  // temporary table until the table goes, so a first load of 10M calls filled its whole
  // memory limit with earlier batches' text.
  await createStage(conn, t);
  if (runs.length === 0) return;
  const appender = await conn.createAppender(stageName(t), 'main', 'temp');
  try {
    const chunk = DuckDBDataChunk.create([BLOB], runs.length);
    chunk.rowCount = runs.length;
    chunk.setColumnValues(0, runs.map((r) => blobValue(r)));
    appender.appendDataChunk(chunk);
  } finally {
    appender.closeSync();
  }
}

/**
 * The stage as one text column per contract column, under the contract's names, the
 * row's text as `_line` and its place in the batch as `_seq` (increasing in the order the
 * rows were read: a later row of a repeated id wins a tie).
 */
export function stageColumns(t: SourceTable): string {
  const cols = t.columns.map((c, i) => `l[${i + 1}] AS "${c.name}"`).join(', ');
  return `(SELECT _line, _seq, ${cols} FROM (SELECT _line, _seq, from_json(_line, '["VARCHAR"]') AS l FROM (
    SELECT unnest(parts) AS _line, rowid * ${SEQ_RUN} + generate_subscripts(parts, 1) AS _seq
    FROM (SELECT rowid, string_split(decode(j), chr(10)) AS parts FROM ${stageName(t)}))))`;
}

/** More than the rows of any staged string (about RUN): `_seq` is run × SEQ_RUN + the row's place in it. */
const SEQ_RUN = 100_000_000;
