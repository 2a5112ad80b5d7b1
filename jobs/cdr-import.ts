import type { MetaDb } from '../src/meta/db.ts';
import type { Store } from '../src/store/duckdb.ts';
import { importCdrFiles, type CdrImportResult } from '../src/sync/cdr-import.ts';
import { recordRun } from './record.ts';
import { SingleFlight } from './single-flight.ts';

/** The CDR drop directory as a recorded job (a run is recorded only when it saw a file). */
export class CdrImportJob {
  private readonly flight = new SingleFlight<CdrImportResult>();

  constructor(private readonly store: Store, private readonly meta: MetaDb, private readonly dir: string, private readonly settleMs = 2_000) {}

  get busy(): boolean {
    return this.flight.busy;
  }

  run(): Promise<CdrImportResult> {
    return this.flight.run(() => this.execute());
  }

  private async execute(): Promise<CdrImportResult> {
    // An empty inbox every ten seconds is not worth a job run row.
    const probe = await importCdrFiles(this.store, this.dir, { settleMs: this.settleMs, dryRun: true });
    if (probe.files.length === 0) return probe;
    return recordRun(this.meta, 'cdr', (run) => importCdrFiles(this.store, this.dir, { settleMs: this.settleMs, run }));
  }
}
