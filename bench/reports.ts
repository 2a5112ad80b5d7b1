/**
 * p50/p95 over HTTP of every telesales report for 90 days of the largest account in
 * America/New_York, each next to a naive baseline measured in the same run: the same
 * report as one SQL over the raw rows, converting every row to local time.
 *   npm run bench:reports   (on the store an earlier `npm run bench` left)
 */
import type { Store } from '../src/store/duckdb.ts';
import { reportCatalogue } from '../src/reports/registry.ts';
import { record } from './results.ts';
import { latency, serveBench, whenRunAlone } from './serve.ts';

const pctl = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const window = 'date_from=2026-08-27&date_to=2026-11-24&timezone=America/New_York&account_id=1';

export async function timeTelesales(base: string, token: string, store: Store, requests: number): Promise<void> {
  const time = async (fn: () => Promise<unknown>): Promise<number[]> => (await latency(fn, requests)).all;
  // Naive baselines: each report as one SQL over the raw rows, converting every row to
  // local time to cut the window and the buckets (what a first version would write).
  const local = (col: string) => `timezone('America/New_York', ${col} AT TIME ZONE 'UTC')`;
  const inWindow = (col: string) => `${local(col)} >= TIMESTAMP '2026-08-27' AND ${local(col)} < TIMESTAMP '2026-11-25'`;
  const dial = `direction = 'outbound' AND status <> 'blocked'`;
  const naiveLeadFlags = `WITH l AS (SELECT id, source FROM leads WHERE account_id = 1 AND deleted_at IS NULL AND ${inWindow('created_at')}),
    f AS (SELECT l.id, l.source, bool_or(c.${dial.replace(' AND ', ' AND c.')}) AS dialed,
      bool_or(c.direction = 'outbound' AND c.status <> 'blocked' AND c.answered_at IS NOT NULL) AS connected,
      bool_or(c.direction = 'outbound' AND c.status <> 'blocked' AND c.talk_sec > 30) AS talked,
      bool_or(c.disposition_code IS NOT NULL) AS disposed, bool_or(d.is_conversion) AS converted
      FROM l LEFT JOIN calls c ON c.lead_id = l.id AND c.account_id = 1 AND ${inWindow('c.started_at')}
      LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
      GROUP BY l.id, l.source)`;
  const naive: Record<string, string> = {
    'dashboard': `SELECT count(*) FILTER (WHERE ${dial}), count(*) FILTER (WHERE ${dial} AND answered_at IS NOT NULL),
      sum(talk_sec) FILTER (WHERE ${dial} AND answered_at IS NOT NULL), count(DISTINCT agent_id) FILTER (WHERE ${dial}),
      count(*) FILTER (WHERE direction = 'outbound' AND status = 'blocked')
      FROM calls WHERE account_id = 1 AND ${inWindow('started_at')}`,
    'disposition-breakdown': `SELECT c.disposition_code, any_value(d.label), any_value(d.category), count(*) FROM calls c
      LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
      WHERE c.account_id = 1 AND c.disposition_code IS NOT NULL AND ${inWindow('c.started_at')} GROUP BY 1 ORDER BY 4 DESC`,
    'agent-performance': `SELECT c.agent_id, any_value(a.name), count(*), count(*) FILTER (WHERE c.answered_at IS NOT NULL),
      sum(c.talk_sec + c.wrap_sec) FILTER (WHERE c.answered_at IS NOT NULL), count(*) FILTER (WHERE d.is_conversion)
      FROM calls c LEFT JOIN agents a ON a.id = c.agent_id LEFT JOIN dispositions d ON d.account_id = c.account_id AND d.code = c.disposition_code
      WHERE c.account_id = 1 AND c.agent_id IS NOT NULL AND c.${dial.replace(' AND ', ' AND c.')} AND ${inWindow('c.started_at')} GROUP BY 1 ORDER BY 3 DESC`,
    'funnel': `${naiveLeadFlags} SELECT count(*), count(*) FILTER (WHERE dialed), count(*) FILTER (WHERE connected),
      count(*) FILTER (WHERE talked), count(*) FILTER (WHERE disposed), count(*) FILTER (WHERE converted) FROM f`,
    'caller-id-health': `SELECT caller_id_id, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL), sum(talk_sec) FILTER (WHERE answered_at IS NOT NULL),
      count(*) FILTER (WHERE answered_at IS NOT NULL AND talk_sec < 10), count(*) FILTER (WHERE status IN ('rejected', 'busy')),
      count(*) FILTER (WHERE ${local('started_at')} >= TIMESTAMP '2026-11-24')
      FROM calls WHERE account_id = 1 AND caller_id_id IS NOT NULL AND ${dial} AND ${inWindow('started_at')} GROUP BY 1`,
    'hour-dow-heatmap': `SELECT dayofweek(${local('started_at')}) w, hour(${local('started_at')}) h, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL)
      FROM calls WHERE account_id = 1 AND ${dial} AND ${inWindow('started_at')} GROUP BY ALL`,
    'lead-source-attribution': `${naiveLeadFlags} SELECT coalesce(source, '(unknown)'), count(*), count(*) FILTER (WHERE dialed),
      count(*) FILTER (WHERE connected), count(*) FILTER (WHERE converted) FROM f GROUP BY 1`,
    'time-series': `SELECT strftime(${local('started_at')}, '%Y-%m-%d') d, count(*), count(*) FILTER (WHERE answered_at IS NOT NULL),
      sum(talk_sec) FILTER (WHERE answered_at IS NOT NULL) FROM calls WHERE account_id = 1 AND ${dial} AND ${inWindow('started_at')} GROUP BY d ORDER BY d`,
    'abandon-rate': `SELECT count(*) FILTER (WHERE answered_at IS NOT NULL), count(*) FILTER (WHERE answered_at IS NOT NULL AND status = 'abandoned')
      FROM calls WHERE campaign_id = 2 AND ${dial}
        AND ${local('started_at')} >= ${local("TIMESTAMP '2026-11-24 11:00:00'")} AND ${local('started_at')} < ${local("TIMESTAMP '2026-11-24 12:00:00'")}`,
  };

  console.log(`\nreport latency over HTTP, ${requests} sequential requests each, account 1 (${window}):`);
  console.log(`${'report'.padEnd(26)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}   naive p50 / p95 ms   speed-up (p50)`);
  for (const decl of reportCatalogue().filter((d) => d.family === 'telesales')) {
    const q = decl.name === 'abandon-rate' ? 'campaign_id=2' : decl.name === 'time-series' ? `${window}&group_by=day` : window;
    const ms = await time(async () => {
      const res = await fetch(`${base}/api/telesales/reports/${decl.name}?${q}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${decl.name}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    });
    const b = await time(() => store.all(naive[decl.name]));
    const baseline = `${pctl(b, 50).toFixed(1).padStart(9)} / ${pctl(b, 95).toFixed(1).padEnd(8)}   ${(pctl(b, 50) / pctl(ms, 50)).toFixed(1)}×`;
    console.log(`${decl.name.padEnd(26)} ${pctl(ms, 50).toFixed(1).padStart(8)} ${pctl(ms, 95).toFixed(1).padStart(8)}   ${baseline}`);
    record(`telesales.${decl.name}.p50_ms`, pctl(ms, 50));
    record(`telesales.${decl.name}.p95_ms`, pctl(ms, 95));
    record(`telesales.${decl.name}.naive_p50_ms`, pctl(b, 50));
  }
}

await whenRunAlone(import.meta.url, async (store) => {
  const { app, base, token } = await serveBench(store);
  try {
    await timeTelesales(base, token, store, Number(process.env.BENCH_REQUESTS ?? 40));
  } finally {
    await app.close();
  }
});
