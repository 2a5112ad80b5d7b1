import fs from 'node:fs';
import type { SliceFiles } from '../src/reports/engine.ts';

/** A process's peak RSS in MB since it started or since resetPeak (Linux VmHWM). */
export const peakMb = (pid: number | 'self' = 'self') =>
  Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Writing 5 to clear_refs resets VmHWM to the current RSS (Linux), so a peak is the next work's own. */
export const resetPeak = (pid: number | 'self' = 'self') => fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');

/**
 * Reads an export's slices to the end, deleting each file as it arrives; the rows they held,
 * counted into `read` as they come, so a failure part-way still tells how far it got.
 */
export async function drainSlices(slices: SliceFiles, read = { rows: 0 }): Promise<number> {
  for await (const s of slices.files) {
    read.rows += s.rows;
    fs.rmSync(s.file, { force: true });
  }
  return read.rows;
}
