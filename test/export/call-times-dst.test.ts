import { DateTime } from 'luxon';
import t from 'tap';
import { makeApp, sourceRows } from '../helpers/fixture.ts';

// The call detail turns each time into local ISO text from the zone's offset per
// 15-minute bucket of the page. The generator rarely puts a call in the minutes around a
// DST change, so these calls are moved there: the last bucket before the change, the
// bucket it happens in, the first one after, and calls that start before it and end after.
const CHANGES = [
  { zone: 'America/New_York', at: '2026-11-01T06:00:00.000Z' }, // 02:00 EDT → 01:00 EST
  { zone: 'Europe/London', at: '2026-10-25T01:00:00.000Z' }, // 02:00 BST → 01:00 GMT
];
// Seconds from the change: start, answer (null: not answered), end.
const SHAPES: [number, number | null, number][] = [
  [-900.5, null, -899.5], [-901, -890, -600], [-60, -30, 30], [-0.001, null, 0], [0, 5, 899.999],
  [600, 610, 1200], [-1800, -1700, 1800], [899, 900, 901], [-3600, -3599, 3600],
];

const moved: number[] = [];
const ctx = await makeApp('call-times-dst', 3000, (db) => {
  const ids = db.prepare(`SELECT id FROM calls WHERE account_id = 1 ORDER BY id LIMIT ${CHANGES.length * SHAPES.length}`).all() as { id: number }[];
  const update = db.prepare(`UPDATE calls SET started_at = ?, answered_at = ?, ended_at = ?, status = ? WHERE id = ?`);
  let i = 0;
  for (const change of CHANGES) {
    const at = Date.parse(change.at);
    for (const [s, a, e] of SHAPES) {
      const iso = (sec: number) => new Date(at + Math.round(sec * 1000)).toISOString();
      const id = ids[i++].id;
      update.run(iso(s), a === null ? null : iso(a), iso(e), a === null ? 'unanswered' : 'completed', id);
      moved.push(id);
    }
  }
});
t.teardown(ctx.close);

/** The local ISO text METRICS.md asks for, from luxon's own zone rules. */
const local = (v: string | null, zone: string) => {
  if (v === null) return null;
  const d = DateTime.fromMillis(Date.parse(v), { zone });
  return d.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") + d.toFormat('ZZ');
};

for (const change of CHANGES) {
  t.test(`times around the ${change.zone} change at ${change.at}`, async (t) => {
    const day = DateTime.fromISO(change.at, { zone: change.zone });
    const q = `date_from=${day.minus({ days: 1 }).toISODate()}&date_to=${day.plus({ days: 1 }).toISODate()}&timezone=${change.zone}&account_id=1&limit=10000`;
    const byId = new Map(sourceRows(ctx.sourceFile, 'calls').map((c) => [c.id as number, c]));
    for (const url of [`/api/calls?${q}`, `/api/calls?${q}&format=csv`]) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token('admin@test')}` } });
      t.equal(res.statusCode, 200, url);
      const rows: { id: number; started_at: string; answered_at: string | null; ended_at: string }[] = url.endsWith('csv')
        ? res.body.trim().split('\r\n').slice(1).map((line) => {
          // The call detail's CSV: id first, then the three times, none of them quoted.
          const [id, started, answered, ended] = line.split(',');
          return { id: Number(id), started_at: started, answered_at: answered === '' ? null : answered, ended_at: ended };
        })
        : res.json().data;
      let checked = 0;
      for (const row of rows) {
        const c = byId.get(row.id)!;
        t.same([row.started_at, row.answered_at, row.ended_at], [local(c.started_at, change.zone), local(c.answered_at, change.zone), local(c.ended_at, change.zone)], `call ${row.id} (${c.started_at}) ${url.endsWith('csv') ? 'CSV' : 'JSON'}`);
        checked++;
      }
      const near = moved.filter((id) => rows.some((r) => r.id === id));
      t.ok(near.length >= SHAPES.length, `the ${SHAPES.length} calls moved next to the change are in the window (${near.length}), of ${checked} checked`);
    }
  });
}
