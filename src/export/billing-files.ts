import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { writeCsv } from './csv.ts';
import { genericLayout } from './layout.ts';
import { writeWorkbook } from './xlsx.ts';
import { stampZipEntries } from './zip-dates.ts';
import type { ResultRow } from '../store/duckdb.ts';
import type { Principal } from '../auth/principal.ts';
import type { ReportEngine } from '../reports/engine.ts';
import { billingMismatches, billingReconciliation } from '../reports/billing/reconciliation.ts';

const SYSTEM: Principal = { userId: 0, email: 'billing-job', role: 'admin', accountId: null, partnerId: null };

export interface BillingFiles {
  month: string;
  files: string[];
  accounts: number;
  mismatched: number;
  /** Whether the month has ended in every account's timezone (the files say so per account). */
  complete: boolean;
}

/** Writes `file` through a temporary name and renames it: a reader never sees half a file. */
async function atomically(file: string, write: (out: PassThrough) => Promise<void>, fix?: (tmp: string) => void): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const out = new PassThrough();
  try {
    await Promise.all([write(out).then(() => out.end(), (err: unknown) => out.destroy(err as Error)), pipeline(out, fs.createWriteStream(tmp))]);
    fix?.(tmp);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The month's reconciliation of every account as `billing_reconciliation_YYYY-MM.csv`
 * and `.xlsx` (summary and mismatches sheets) under `dir`. The files depend on the data
 * only (the workbook is dated at the month's end), so a re-run gives the same bytes.
 */
export async function writeBillingFiles(engine: ReportEngine, month: string, dir: string): Promise<BillingFiles> {
  fs.mkdirSync(dir, { recursive: true });
  const query = { month };
  const summary = await engine.prepare(billingReconciliation, query, SYSTEM, ['csv', 'xlsx']);
  const mismatches = await engine.prepare(billingMismatches, query, SYSTEM, ['csv', 'xlsx']);
  const [y, m] = month.split('-').map(Number);
  const fixedDate = new Date(Date.UTC(y, m, 1));
  const base = path.join(dir, `billing_reconciliation_${month}`);

  // The summary is one row per account, but its query is the expensive part: run once,
  // it feeds the CSV, the workbook's first sheet and the run's counts.
  const accounts: ResultRow[] = [];
  const stream = await engine.stream(summary);
  for await (const chunk of stream.chunks) accounts.push(...chunk);
  const summaryRows = async function* () {
    yield accounts;
  };
  const summaryLayout = genericLayout(summary.decl, summary.ctx.params);

  await atomically(`${base}.csv`, (out) => writeCsv(out, summaryLayout, summaryRows(), { bom: false }));
  await atomically(`${base}.xlsx`, async (out) => {
    const b = await engine.stream(mismatches);
    await writeWorkbook(out, [
      { name: 'Summary', columns: summaryLayout, chunks: summaryRows() },
      { name: 'Mismatches', columns: genericLayout(mismatches.decl, mismatches.ctx.params), chunks: b.chunks },
    ], { fixedDate });
  }, (tmp) => {
    const zip = fs.readFileSync(tmp);
    stampZipEntries(zip, fixedDate);
    fs.writeFileSync(tmp, zip);
  });
  return {
    month, files: [`${base}.csv`, `${base}.xlsx`],
    accounts: accounts.length, mismatched: accounts.filter((a) => a.status === 'mismatch').length,
    complete: accounts.every((a) => a.complete === true),
  };
}
