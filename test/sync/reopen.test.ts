import path from 'node:path';
import t from 'tap';
import { Store } from '../../src/store/duckdb.ts';
import { tmpDir } from '../helpers/fixture.ts';

// The server reopens a store DuckDB invalidated (server.ts, healStore) while requests may
// still be reading it. Reopening stops and awaits those reads before it closes their
// connections: closing a connection under a running query crashed the process (SIGSEGV)
// or hung it.

t.test('reopening stops the reads still running, then opens the file again', async (t) => {
  const store = await Store.open(path.join(tmpDir('reopen'), 'store.duckdb'));
  t.teardown(() => store.close());
  // Long enough to be running when the reopen starts: several seconds on this machine.
  const slow = store.all(`SELECT count(*) AS n FROM range(5000000000) a WHERE a.range % 7 = 3`);
  await new Promise((r) => setTimeout(r, 100));
  const reopened = store.reopen();
  await t.rejects(slow, /INTERRUPT/i, 'the running read is stopped');
  await reopened;
  const [row] = await store.all(`SELECT count(*) AS n FROM schema_migrations`);
  t.ok(Number(row.n) > 0, 'the reopened store answers');
});
