import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import ExcelJS from 'exceljs';
import { parseString } from 'fast-csv';
import { DateTime } from 'luxon';
import t from 'tap';
import { callDetail } from '../../src/reports/calls/call-detail.ts';
import { makeApp, sourceRows } from '../helpers/fixture.ts';

// Enough calls that an export outgrows the socket's buffers (the disconnect test needs it),
// in slices of 1,500 rows (CSV) and 375 (XLSX), so every export spans many.
// Slice files go to a temporary directory of this test's own, so the check that none is
// left behind never sees another test's export running at the same time.
process.env.TMPDIR = fs.mkdtempSync(`${os.tmpdir()}/callboard-calls-test-`);
const ctx = await makeApp('calls', 30000, undefined, { exports: { sliceRows: 1500 } });
t.teardown(ctx.close);

const KATHMANDU = 'Asia/Kathmandu';
const NY = 'America/New_York';

/** The call detail records computed in TypeScript from the source rows (METRICS.md). */
function expectedCalls(accounts: number[], fromLocal: string, toLocalInclusive: string, zone: string, filter: { status?: string } = {}) {
  const by = (table: string) => new Map(sourceRows(ctx.sourceFile, table).map((r) => [r.id, r]));
  const campaigns = by('campaigns');
  const agents = by('agents');
  const leads = by('leads');
  const cids = by('caller_ids');
  const dispositions = sourceRows(ctx.sourceFile, 'dispositions');
  const from = DateTime.fromISO(fromLocal, { zone }).toMillis();
  const to = DateTime.fromISO(toLocalInclusive, { zone }).plus({ days: 1 }).toMillis();
  const iso = (v: string | null) => {
    if (v === null) return null;
    const d = DateTime.fromMillis(Date.parse(v), { zone });
    return d.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") + d.toFormat('ZZ');
  };
  const fixed = (v: unknown) => Number(v).toFixed(4);
  return sourceRows(ctx.sourceFile, 'calls')
    .filter((c) => accounts.includes(c.account_id) && Date.parse(c.started_at) >= from && Date.parse(c.started_at) < to)
    .filter((c) => !filter.status || c.status === filter.status)
    .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at) || a.id - b.id)
    .map((c) => ({
      id: c.id, started_at: iso(c.started_at), answered_at: iso(c.answered_at), ended_at: iso(c.ended_at),
      direction: c.direction, product: c.product, status: c.status, account_id: c.account_id, campaign_id: c.campaign_id,
      campaign_name: campaigns.get(c.campaign_id)?.name ?? null, agent_id: c.agent_id, agent_name: agents.get(c.agent_id)?.name ?? null,
      lead_id: c.lead_id, lead_source: leads.get(c.lead_id)?.source ?? null, caller_id: cids.get(c.caller_id_id)?.cid ?? null,
      from_number: c.from_number, to_number: c.to_number, talk_sec: c.talk_sec, wrap_sec: c.wrap_sec,
      disposition_code: c.disposition_code,
      disposition_label: dispositions.find((d) => d.account_id === c.account_id && d.code === c.disposition_code)?.label ?? null,
      credits: fixed(c.credits), cost: fixed(c.cost),
    }));
}

/** The temporary directories of CSV and XLSX exports in flight (src/reports/engine.ts copySlices). */
function sliceTempDirs(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('callboard-slices-')).sort();
}

async function get(url: string, email = 'admin@test') {
  return ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token(email)}` } });
}

t.test('JSON pages follow the keyset cursor through every call of the window, exactly', async (t) => {
  const expected = expectedCalls([1], '2026-11-20', '2026-12-31', KATHMANDU);
  t.ok(expected.length > 250, 'several pages');
  const got: unknown[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`/api/calls?date_from=2026-11-20&date_to=2026-12-31&timezone=${KATHMANDU}&account_id=1&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.statusCode, 200);
    const body = res.json();
    t.ok(body.data.length <= 100);
    got.push(...body.data);
    cursor = body.next_cursor;
    pages++;
  } while (cursor && pages < 100);
  t.equal(pages, Math.ceil(expected.length / 100));
  t.same(got, expected);
});

t.test('filters, scope and validation', async (t) => {
  const busy = await get(`/api/calls?date_from=2026-12-01&date_to=2026-12-31&timezone=${NY}&account_id=1&status=busy&limit=10000`);
  t.same(busy.json().data, expectedCalls([1], '2026-12-01', '2026-12-31', NY, { status: 'busy' }));
  const own = await get(`/api/calls?date_from=2026-12-01&date_to=2026-12-02&limit=10000`, 'acct1@test');
  t.ok(own.json().data.every((c: { account_id: number }) => c.account_id === 1), 'an account user sees its own calls only');
  t.equal((await get(`/api/calls?date_from=2026-12-01&date_to=2026-12-02&account_id=2`, 'acct1@test')).statusCode, 404);
  for (const [q, field] of [
    ['date_from=2026-01-01&date_to=2026-06-01', 'date_to'], ['date_from=2026-12-01&date_to=2026-12-02&status=lost', 'status'],
    ['date_from=2026-12-01&date_to=2026-12-02&direction=up', 'direction'], ['date_from=2026-12-01&date_to=2026-12-02&limit=10001', 'limit'],
    ['date_from=2026-12-01&date_to=2026-12-02&limit=0', 'limit'], ['date_from=2026-12-01&date_to=2026-12-02&cursor=nonsense', 'cursor'],
    ['date_to=2026-12-02', 'date_from'], ['date_from=2026-12-01&date_to=2026-12-02&format=pdf', 'format'],
  ]) {
    const res = await get(`/api/calls?${q}`);
    t.equal(res.statusCode, 422, q);
    t.ok(res.json().errors[field], `${q} names ${field}`);
  }
});

t.test('an export cuts its window where the calls fall: whole 15-minute slots, a slice per target rows', async (t) => {
  const SLOT = 900_000;
  const engine = ctx.app.engine;
  const admin = { userId: 1, email: 'admin@test', role: 'admin' as const, accountId: null, partnerId: null };
  for (const status of [undefined, 'busy']) {
    const query = `date_from=2026-11-01&date_to=2026-12-31&timezone=${NY}&account_id=1${status ? `&status=${status}` : ''}`;
    const r = await engine.prepare(callDetail, Object.fromEntries(new URLSearchParams(query)), admin);
    const from = DateTime.fromISO('2026-11-01', { zone: NY }).toMillis();
    const to = DateTime.fromISO('2026-12-31', { zone: NY }).plus({ days: 1 }).toMillis();
    const starts = sourceRows(ctx.sourceFile, 'calls')
      .filter((c) => c.account_id === 1 && (!status || c.status === status))
      .map((c) => Date.parse(c.started_at)).filter((ms) => ms >= from && ms < to);
    const perSlot = new Map<number, number>();
    for (const ms of starts) perSlot.set(ms - (ms % SLOT), (perSlot.get(ms - (ms % SLOT)) ?? 0) + 1);
    const slots = [...perSlot].sort((a, b) => a[0] - b[0]);
    const busiest = Math.max(...perSlot.values());
    for (const target of [200, 1_000, 1_000_000]) {
      // A slot opens a new slice when the calls before it reach the next multiple of the target.
      const expected = [from];
      let before = 0;
      let group = 0;
      for (const [slot, n] of slots) {
        if (Math.floor(before / target) !== group) {
          group = Math.floor(before / target);
          expected.push(slot);
        }
        before += n;
      }
      expected.push(to);
      const bounds = await engine.sliceBounds(r, target);
      t.same(bounds, expected, `${status ?? 'every status'}, ${target} rows a slice`);
      const rows = bounds.slice(0, -1).map((lo, i) => starts.filter((ms) => ms >= lo && ms < bounds[i + 1]).length);
      t.equal(rows.reduce((a, b) => a + b, 0), starts.length, 'the slices hold every call once');
      t.ok(rows.every((n) => n > 0 && n < target + busiest), `each slice holds calls, fewer than the target plus the busiest slot (${Math.max(...rows)})`);
    }
  }
});

// An agent filter is not in the roll-up the cuts are counted from: the slices hold fewer
// calls than the target, and the export still carries exactly the agent's calls.
t.test('an agent-filtered export is cut by the unfiltered counts and holds the agent\'s calls', async (t) => {
  const engine = ctx.app.engine;
  const admin = { userId: 1, email: 'admin@test', role: 'admin' as const, accountId: null, partnerId: null };
  const calls = sourceRows(ctx.sourceFile, 'calls').filter((c) => c.account_id === 1 && c.agent_id !== null);
  const agent = calls[0].agent_id as number;
  const query = `date_from=2026-11-01&date_to=2026-12-31&timezone=${NY}&account_id=1&agent_ids[]=${agent}`;
  const r = await engine.prepare(callDetail, Object.fromEntries(new URLSearchParams(query)), admin);
  const bounds = await engine.sliceBounds(r, 200);
  t.ok(bounds.length > 3, `${bounds.length - 1} slices`);
  const from = DateTime.fromISO('2026-11-01', { zone: NY }).toMillis();
  const to = DateTime.fromISO('2026-12-31', { zone: NY }).plus({ days: 1 }).toMillis();
  const expected = calls.filter((c) => c.agent_id === agent).map((c) => Date.parse(c.started_at)).filter((ms) => ms >= from && ms < to);
  const rows = bounds.slice(0, -1).map((lo, i) => expected.filter((ms) => ms >= lo && ms < bounds[i + 1]).length);
  t.ok(rows.every((n) => n < 200), 'every slice under the target');
  const res = await ctx.app.inject({ method: 'GET', url: `/api/calls?${query}&format=csv`, headers: { authorization: `Bearer ${await ctx.token('admin@test')}` } });
  t.equal(res.statusCode, 200);
  const lines = res.body.trim().split('\n').slice(1);
  t.equal(lines.length, expected.length, `the export holds the agent's ${expected.length} calls`);
});

t.test('CSV and XLSX carry every call of the window, cell by cell as the JSON', async (t) => {
  const q = `date_from=2026-11-01&date_to=2027-01-10&timezone=${NY}&account_id=1`;
  const expected = expectedCalls([1], '2026-11-01', '2027-01-10', NY);
  const csv = await get(`/api/calls?${q}&format=csv`);
  t.equal(csv.statusCode, 200);
  t.equal(csv.headers['content-disposition'], 'attachment; filename="calls_2026-11-01_2027-01-10.csv"');
  const table: string[][] = await new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(csv.body, { headers: false }).on('data', (r: string[]) => rows.push(r)).on('error', reject).on('end', () => resolve(rows));
  });
  t.equal(table.length, expected.length + 1);
  const keys = Object.keys(expected[0]);
  let bad = 0;
  expected.forEach((row, i) => {
    const want = keys.map((k) => (row[k as keyof typeof row] === null ? '' : String(row[k as keyof typeof row])));
    if (JSON.stringify(table[i + 1]) !== JSON.stringify(want) && bad++ < 3) t.same(table[i + 1], want, `csv row ${i + 1}`);
  });
  t.equal(bad, 0, 'every CSV row matches');

  const xlsx = await get(`/api/calls?${q}&format=xlsx`);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  t.equal(ws.rowCount, expected.length + 1);
  const col = (key: string) => keys.indexOf(key) + 1;
  expected.slice(0, 300).forEach((row, i) => {
    const r = ws.getRow(i + 2);
    const started = DateTime.fromISO(row.started_at!, { setZone: true });
    t.same(r.getCell(col('started_at')).value, new Date(Date.UTC(started.year, started.month - 1, started.day, started.hour, started.minute, started.second, started.millisecond)), 'a local date-time');
    t.equal(r.getCell(col('to_number')).value, row.to_number, 'phone numbers are text');
    t.equal(r.getCell(col('cost')).value, Number(row.cost));
    t.equal(r.getCell(col('id')).value, row.id);
  });
});

for (const format of ['xlsx', 'csv']) {
  t.test(`a client that disconnects mid-export stops the reading of pages (${format})`, async (t) => {
    if (!ctx.app.server.listening) await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = ctx.app.server.address() as { port: number };
    const token = await ctx.token('admin@test');
    const tmpBefore = sliceTempDirs();
    let during = -1;
    let timer: NodeJS.Timeout | undefined;
    const received = await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no data')), 20_000);
      const req = http.get({ port, path: `/api/calls?date_from=2026-10-15&date_to=2027-01-10&format=${format}`, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let n = 0;
        res.once('data', (chunk: Buffer) => {
          n += chunk.length;
          // Stop reading, then go away, as a closed browser tab does.
          res.pause();
          during = ctx.app.engine.exportsInFlight;
          setTimeout(() => { req.destroy(); resolve(n); }, 50);
        });
      });
      req.on('error', () => undefined);
    }).finally(() => clearTimeout(timer));
    t.ok(received > 0, 'the download had started');
    t.equal(during, 1, 'the export is being read while the client is there');
    for (let i = 0; i < 100 && ctx.app.engine.exportsInFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
    t.equal(ctx.app.engine.exportsInFlight, 0, 'the export stopped reading when the client left');
    for (let i = 0; i < 100 && sliceTempDirs().length > tmpBefore.length; i++) await new Promise((r) => setTimeout(r, 50));
    t.same(sliceTempDirs(), tmpBefore, 'no slice file is left behind');
  });
}

t.test('CSV written by DuckDB neutralises formula-like text and keeps numbers and E.164 numbers', async (t) => {
  let call: Record<string, any> = {};
  const inj = await makeApp('calls-injection', 2000, (db) => {
    call = db.prepare(`SELECT * FROM calls WHERE account_id = 1 AND campaign_id IS NOT NULL AND agent_id IS NOT NULL AND lead_id IS NOT NULL
      AND caller_id_id IS NOT NULL AND disposition_code IS NOT NULL ORDER BY id LIMIT 1`).get() as Record<string, any>;
    db.prepare(`UPDATE campaigns SET name = '=HYPERLINK("http://x.test","y")' WHERE id = ?`).run(call.campaign_id);
    db.prepare(`UPDATE agents SET name = '@SUM(1+1)' WHERE id = ?`).run(call.agent_id);
    db.prepare(`UPDATE leads SET source = '-2+3' WHERE id = ?`).run(call.lead_id);
    db.prepare(`UPDATE caller_ids SET cid = '+1-800' WHERE id = ?`).run(call.caller_id_id);
    db.prepare(`UPDATE dispositions SET label = char(9) || 'tab, "quoted"' WHERE account_id = 1 AND code = ?`).run(call.disposition_code);
    db.prepare(`UPDATE calls SET from_number = '+84901234567', to_number = '-12.5' WHERE id = ?`).run(call.id);
  });
  t.teardown(inj.close);
  const day = String(call.started_at).slice(0, 10);
  const token = await inj.token('admin@test');
  const res = await inj.app.inject({ method: 'GET', url: `/api/calls?date_from=${day}&date_to=${day}&account_id=1&format=csv`, headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 200);
  const table: string[][] = await new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(res.body, { headers: false }).on('data', (r: string[]) => rows.push(r)).on('error', reject).on('end', () => resolve(rows));
  });
  const header = table[0];
  const row = table.find((r) => r[0] === String(call.id));
  t.ok(row, 'the call is in the file');
  const cell = (label: string) => row![header.indexOf(label)];
  t.equal(cell('Campaign'), `'=HYPERLINK("http://x.test","y")`);
  t.equal(cell('Agent'), `'@SUM(1+1)`);
  t.equal(cell('Lead source'), `'-2+3`);
  t.equal(cell('Caller ID'), `'+1-800`, 'a plus sign that is not an E.164 number');
  t.equal(cell('Disposition label'), `'\ttab, "quoted"`, 'a leading tab, with the comma and quotes kept by RFC 4180 quoting');
  t.equal(cell('From'), '+84901234567', 'an E.164 number stays usable');
  t.equal(cell('To'), '-12.5', 'a negative number stays a number');
  t.match(res.body, /^Call ID,/, 'no byte order mark unless asked');
  const bom = await inj.app.inject({ method: 'GET', url: `/api/calls?date_from=${day}&date_to=${day}&account_id=1&format=csv&bom=1`, headers: { authorization: `Bearer ${token}` } });
  t.equal(bom.rawPayload.subarray(0, 3).toString('hex'), 'efbbbf', 'bom=1 starts with the UTF-8 byte order mark');
  t.equal(bom.rawPayload.subarray(3).toString(), res.body, 'and is otherwise the same file');
  t.ok(res.body.split('\r\n').length > 2 && !/[^\r]\n/.test(res.body.replace(/"[^"]*"/g, '')), 'rows end with CRLF');
});
