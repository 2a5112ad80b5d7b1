import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { writeCsv } from '../../export/csv.ts';
import { genericLayout } from '../../export/layout.ts';
import { writeWorkbook } from '../../export/xlsx.ts';
import { stampZipEntries } from '../../export/zip-dates.ts';
import type { Principal, ReportEngine } from '../engine.ts';
import { billingMismatches, billingReconciliation } from './reconciliation.ts';

const SYSTEM: Principal = { userId: 0, email: 'billing-job', role: 'admin', accountId: null, partnerId: null };

export interface BillingFiles {
  month: string;
  files: string[];
  accounts: number;
  mismatched: number;
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

  await atomically(`${base}.csv`, async (out) => {
    const rows = await engine.stream(summary);
    await writeCsv(out, genericLayout(summary.decl, summary.ctx.params), rows.chunks, { bom: false });
  });
  await atomically(`${base}.xlsx`, async (out) => {
    const a = await engine.stream(summary);
    const b = await engine.stream(mismatches);
    await writeWorkbook(out, [
      { name: 'Summary', columns: genericLayout(summary.decl, summary.ctx.params), chunks: a.chunks },
      { name: 'Mismatches', columns: genericLayout(mismatches.decl, mismatches.ctx.params), chunks: b.chunks },
    ], { fixedDate });
  }, (tmp) => {
    const zip = fs.readFileSync(tmp);
    stampZipEntries(zip, fixedDate);
    fs.writeFileSync(tmp, zip);
  });
  const result = await engine.json(summary) as { data: { reconciliation: { status: string } }[] };
  return {
    month, files: [`${base}.csv`, `${base}.xlsx`],
    accounts: result.data.length, mismatched: result.data.filter((d) => d.reconciliation.status === 'mismatch').length,
  };
}
