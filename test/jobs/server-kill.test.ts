import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { Store } from '../../src/store/duckdb.ts';
import { makeSource, syncInto, tmpDir } from '../helpers/fixture.ts';

// The server killed with SIGKILL in the middle of its first sync, then started again:
// the store ends up exactly as an uninterrupted sync leaves it.
const dir = tmpDir('server-kill');
const sourceFile = await makeSource(dir, 20_000);
const dataDir = path.join(dir, 'data');
const env = {
  ...process.env, CALLBOARD_DATA_DIR: dataDir, CALLBOARD_SOURCE: `sqlite:${sourceFile}`, CALLBOARD_SYNC_BATCH: '1000',
  PORT: '0', CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn',
};

function serve(): ChildProcess {
  return spawn(process.execPath, [path.resolve('bin/callboard.js'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function runs(): { status: string }[] {
  try {
    const db = new Database(path.join(dataDir, 'meta.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(`SELECT status FROM job_runs WHERE job = 'sync' ORDER BY id`).all() as { status: string }[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Row counts, id sums and roll-up totals: equal digests, equal stores. */
async function digest(store: Store) {
  const out: Record<string, string> = {};
  for (const table of ['accounts', 'campaigns', 'leads', 'calls', 'sms_messages', 'credit_transactions']) {
    const [r] = await store.all(`SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM ${table}`);
    out[table] = `${r.n}/${r.d}/${r.s}`;
  }
  const [slots] = await store.all(`SELECT sum(dials) AS d, sum(answers) AS a, sum(talk_sec) AS t, sum(conversions) AS c FROM call_slots`);
  out.call_slots = JSON.stringify(slots);
  const [leads] = await store.all(`SELECT count(*) AS n, count(first_dial) AS f, count(first_convert) AS c FROM lead_activity`);
  out.lead_activity = JSON.stringify(leads);
  return out;
}

t.test('kill -9 of the server mid-sync, then a restart', async (t) => {
  const first = serve();
  await until('the first sync to start', () => runs().some((r) => r.status === 'running'));
  await new Promise((r) => setTimeout(r, 700));
  first.kill('SIGKILL');
  await new Promise((r) => first.on('exit', r));
  t.strictSame(runs().map((r) => r.status), ['running'], 'killed while the sync ran');

  const second = serve();
  await until('the restarted sync to finish', () => runs().some((r) => r.status === 'ok'));
  t.strictSame(runs().map((r) => r.status), ['interrupted', 'ok'], 'the killed run is marked interrupted; the next one completes');
  second.kill('SIGTERM');
  await new Promise((r) => second.on('exit', r));

  const resumed = await Store.open(path.join(dataDir, 'callboard.duckdb'));
  const whole = await syncInto(path.join(dir, 'whole.duckdb'), sourceFile, 1000);
  t.strictSame(await digest(resumed), await digest(whole.store), 'identical to an uninterrupted sync');
  await resumed.close();
  await whole.store.close();
});
