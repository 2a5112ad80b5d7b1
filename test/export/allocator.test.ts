import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { DUCKDB_ALLOCATOR_CONF } from '../../src/store/allocator.ts';
import { tmpDir } from '../helpers/fixture.ts';

// What DuckDB frees is reused by the next query (src/store/allocator.ts): forty more
// rounds of the same two queries at once leave the process's peak memory near the
// first round's. With jemalloc's defaults each round takes fresh pages on other threads'
// arenas while the freed ones wait, and the peak grows with the rounds: how a long
// export came to peak above a short one.

const probe = (conf: string | undefined) => {
  const env = { ...process.env };
  if (conf === undefined) delete env.DUCKDB_JE_MALLOC_CONF;
  else env.DUCKDB_JE_MALLOC_CONF = conf;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('test/helpers/allocator-probe.ts'), tmpDir('allocator'), '40'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { first: number; all: number; growth: number };
};

t.test('repeated queries reuse the memory the ones before them freed', async (t) => {
  const ours = probe(undefined);
  // An empty setting is jemalloc's defaults: the environment wins over the module's.
  const defaults = probe('');
  // Measured: the defaults grow by 150-260 MiB and end at 440-560 MiB; this setting
  // grows by 40-120 MiB and ends at 330-390 MiB.
  t.ok(defaults.growth >= 120, `with jemalloc's defaults the peak grows by ${defaults.growth} MiB over the rounds: ${JSON.stringify(defaults)}`);
  t.ok(ours.all <= defaults.all - 32, `with ${DUCKDB_ALLOCATOR_CONF} it ends ${defaults.all - ours.all} MiB lower: ${JSON.stringify(ours)}`);
});
