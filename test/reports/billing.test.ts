import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parseString } from 'fast-csv';
import { DateTime } from 'luxon';
import t from 'tap';
import { BillingJob } from '../../jobs/billing.ts';
import { FIXTURE_NOW, makeApp, sourceRows, tmpDir } from '../helpers/fixture.ts';
import { fixed, units } from '../helpers/decimal.ts';

// Deliberate ledger faults in November 2026 for account 1 (America/New_York, whose
// November starts at 04:00Z and ends at 05:00Z: DST ends on the 1st), on top of the
// generator's own rare ones; and calls on both sides of its month boundary.
const ctx = await makeApp('billing', 6000, (db) => {
  const maxLedger = (db.prepare('SELECT max(id) AS m FROM credit_transactions').get() as { m: number }).m;
  const nov = db.prepare(`SELECT id, credits FROM calls WHERE account_id = 1 AND CAST(credits AS REAL) > 0 AND started_at >= '2026-11-10' AND started_at < '2026-11-20' ORDER BY id LIMIT 6`).all() as { id: number; credits: string }[];
  const addUsage = db.prepare(`INSERT INTO credit_transactions (id, account_id, kind, credits, amount, ref_type, ref_id, created_at) VALUES (?, ?, 'usage', ?, '0', ?, ?, ?)`);
  // Usage naming no record: a call id that does not exist, an SMS of another account, no ref at all.
  const otherSms = (db.prepare(`SELECT id FROM sms_messages WHERE account_id = 2 LIMIT 1`).get() as { id: number }).id;
  addUsage.run(maxLedger + 1, 1, '-3.0000', 'call', 999_999_999, '2026-11-12T10:00:00.000Z');
  addUsage.run(maxLedger + 2, 1, '-1.2500', 'sms', otherSms, '2026-11-13T10:00:00.000Z');
  addUsage.run(maxLedger + 3, 1, '-0.5000', null, null, '2026-11-14T10:00:00.000Z');
  // A record without usage: every usage row of one call removed.
  db.prepare(`DELETE FROM credit_transactions WHERE kind = 'usage' AND ref_type = 'call' AND ref_id = ?`).run(nov[0].id);
  // Credits that differ: one call charged twice, another charged less.
  addUsage.run(maxLedger + 4, 1, `-${nov[1].credits}`, 'call', nov[1].id, '2026-11-16T10:00:00.000Z');
  db.prepare(`UPDATE credit_transactions SET credits = '-0.0001' WHERE kind = 'usage' AND ref_type = 'call' AND ref_id = ?`).run(nov[2].id);
  // Both sides of New York's month boundary.
  db.prepare(`UPDATE calls SET started_at = '2026-11-01T03:59:59.999Z', updated_at = updated_at WHERE id = ?`).run(nov[3].id);
  db.prepare(`UPDATE calls SET started_at = '2026-11-01T04:00:00.000Z', updated_at = updated_at WHERE id = ?`).run(nov[4].id);
});
t.teardown(ctx.close);

const accounts = sourceRows(ctx.sourceFile, 'accounts');
const calls = sourceRows(ctx.sourceFile, 'calls');
const sms = sourceRows(ctx.sourceFile, 'sms_messages');
const ledger = sourceRows(ctx.sourceFile, 'credit_transactions');

const u = units;
const d4 = (v: bigint) => fixed(v, 4);
const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);

interface Mismatch { account_id: number; problem: string; ref_type: string | null; ref_id: number | null; ledger_id: number | null }

/** METRICS.md "Monthly billing reconciliation", from the source rows. */
function expected(month: string, ids: number[]) {
  const mismatches: Mismatch[] = [];
  const data = accounts.filter((a) => ids.includes(a.id)).sort((a, b) => a.id - b.id).map((a) => {
    const from = DateTime.fromISO(`${month}-01`, { zone: a.timezone });
    const lo = from.toMillis(), hi = from.plus({ months: 1 }).toMillis();
    const inMonth = (iso: string) => Date.parse(iso) >= lo && Date.parse(iso) < hi;
    const monthCalls = calls.filter((c) => c.account_id === a.id && inMonth(c.started_at));
    const billed = monthCalls.filter((c) => c.status !== 'blocked');
    const monthSms = sms.filter((s) => s.account_id === a.id && inMonth(s.sent_at));
    const rows = ledger.filter((l) => l.account_id === a.id);
    const within = rows.filter((l) => inMonth(l.created_at));
    const opening = sum(rows.filter((l) => Date.parse(l.created_at) < lo).map((l) => u(l.credits)));
    const kind = (k: string) => sum(within.filter((l) => l.kind === k).map((l) => u(l.credits)));
    const usage = rows.filter((l) => l.kind === 'usage');

    const exists = (type: string | null, id: number | null) =>
      (type === 'call' && calls.some((c) => c.id === id && c.account_id === a.id)) || (type === 'sms' && sms.some((s) => s.id === id && s.account_id === a.id));
    const orphans = within.filter((l) => l.kind === 'usage' && !exists(l.ref_type, l.ref_id));
    const records = [...monthCalls.map((c) => ({ type: 'call', r: c })), ...monthSms.map((s) => ({ type: 'sms', r: s }))];
    let noUsage = 0, noUsageCredits = 0n, differ = 0, difference = 0n;
    for (const { type, r } of records) {
      const refs = usage.filter((l) => l.ref_type === type && l.ref_id === r.id);
      const charged = -sum(refs.map((l) => u(l.credits)));
      if (refs.length === 0 && u(r.credits) > 0n) {
        noUsage++;
        noUsageCredits += u(r.credits);
        mismatches.push({ account_id: a.id, problem: 'record_without_usage', ref_type: type, ref_id: r.id, ledger_id: null });
      } else if (refs.length > 0 && u(r.credits) !== charged) {
        differ++;
        difference += u(r.credits) - charged;
        mismatches.push({ account_id: a.id, problem: 'credits_differ', ref_type: type, ref_id: r.id, ledger_id: null });
      }
    }
    for (const l of orphans) mismatches.push({ account_id: a.id, problem: 'usage_without_record', ref_type: l.ref_type, ref_id: l.ref_id, ledger_id: l.id });
    return {
      account_id: a.id, auth_id: a.auth_id, name: a.name, timezone: a.timezone, complete: hi <= FIXTURE_NOW.getTime(),
      calls: {
        count: billed.length,
        billable_minutes: billed.filter((c) => c.answered_at !== null).reduce((s, c) => s + Math.ceil(c.talk_sec / 60), 0),
        cost: d4(sum(billed.map((c) => u(c.cost)))), credits: d4(sum(billed.map((c) => u(c.credits)))),
      },
      sms: {
        count: monthSms.length, segments: monthSms.reduce((s, m) => s + m.segments, 0),
        cost: d4(sum(monthSms.map((m) => u(m.cost)))), credits: d4(sum(monthSms.map((m) => u(m.credits)))),
      },
      ledger: {
        opening_balance: d4(opening), purchases: d4(kind('purchase')), usage: d4(kind('usage')), refunds: d4(kind('refund')),
        adjustments: d4(kind('adjustment')), closing_balance: d4(opening + sum(within.map((l) => u(l.credits)))),
      },
      reconciliation: {
        status: orphans.length + noUsage + differ > 0 ? 'mismatch' : 'ok',
        usage_without_record: { count: orphans.length, credits: d4(-sum(orphans.map((l) => u(l.credits)))) },
        record_without_usage: { count: noUsage, credits: d4(noUsageCredits) },
        credits_differ: { count: differ, difference: d4(difference) },
      },
    };
  });
  return { body: { month, complete: data.every((d) => d.complete), data }, mismatches };
}

async function get(url: string, email = 'admin@test') {
  return ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token(email)}` } });
}

t.test('the reconciliation of a month that crosses a DST change, with every kind of mismatch', async (t) => {
  const want = expected('2026-11', [1, 2, 3, 4, 5, 6]);
  const res = await get('/api/billing/reconciliation?month=2026-11');
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), want.body);
  const acme = want.body.data[0].reconciliation;
  t.ok(acme.usage_without_record.count >= 3 && acme.record_without_usage.count >= 1 && acme.credits_differ.count >= 2, 'the faults show');
  t.strictSame((await get('/api/billing/reconciliation?month=2026-10')).json(), expected('2026-10', [1, 2, 3, 4, 5, 6]).body, 'October');
  t.strictSame((await get('/api/billing/reconciliation?month=2026-11', 'acct2@test')).json(), expected('2026-11', [2]).body, 'an account user');
  t.strictSame((await get('/api/billing/reconciliation?month=2026-11', 'partner1@test')).json(), expected('2026-11', [1, 3]).body, 'a partner');
  t.strictSame((await get('/api/billing/reconciliation?month=2026-11&account_id=1')).json(), expected('2026-11', [1]).body, 'one account');
});

t.test('CSV is the summary; XLSX adds every mismatched row', async (t) => {
  const want = expected('2026-11', [1, 2, 3, 4, 5, 6]);
  const csv = await get('/api/billing/reconciliation?month=2026-11&format=csv');
  t.equal(csv.headers['content-disposition'], 'attachment; filename="billing_reconciliation_2026-11.csv"');
  const table: string[][] = await new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(csv.body, { headers: false }).on('data', (r: string[]) => rows.push(r)).on('error', reject).on('end', () => resolve(rows));
  });
  t.equal(table.length, 7);
  const flat = (a: (typeof want.body.data)[number]) => [
    a.account_id, a.auth_id, a.name, a.timezone, a.calls.count, a.calls.billable_minutes, a.calls.cost, a.calls.credits,
    a.sms.count, a.sms.segments, a.sms.cost, a.sms.credits, ...Object.values(a.ledger), a.reconciliation.status, a.complete,
    a.reconciliation.usage_without_record.count, a.reconciliation.usage_without_record.credits,
    a.reconciliation.record_without_usage.count, a.reconciliation.record_without_usage.credits,
    a.reconciliation.credits_differ.count, a.reconciliation.credits_differ.difference,
  ].map(String);
  t.strictSame(table.slice(1), want.body.data.map(flat));

  const xlsx = await get('/api/billing/reconciliation?month=2026-11&format=xlsx');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
  t.strictSame(wb.worksheets.map((w) => w.name), ['Summary', 'Mismatches']);
  t.equal(wb.worksheets[0].rowCount, 7);
  t.equal(wb.worksheets[0].getRow(2).getCell(7).value, Number(want.body.data[0].calls.cost), 'money as numbers');
  const got = [];
  const ws = wb.worksheets[1];
  for (let i = 2; i <= ws.rowCount; i++) {
    const v = ws.getRow(i).values as unknown[];
    got.push({ account_id: v[1], problem: v[2], ref_type: v[3] ?? null, ref_id: v[4] ?? null, ledger_id: v[5] ?? null });
  }
  const key = (m: Mismatch) => JSON.stringify([m.account_id, m.problem, m.ref_type, m.ref_id, m.ledger_id]);
  t.strictSame(got.map((m) => key(m as Mismatch)).sort(), want.mismatches.map(key).sort(), 'every mismatched row, and only those');
});

t.test('the monthly job writes last month\'s files atomically, identical on a re-run, and records the run', async (t) => {
  const dir = path.join(tmpDir('billing-files'), 'billing');
  // 02:00 on the 1st in Etc/GMT+12: 14:00Z, when November has ended everywhere.
  const job = new BillingJob(ctx.app.engine, ctx.meta, dir, 'Etc/GMT+12', () => new Date('2026-12-01T14:00:00Z'));
  t.equal(job.lastMonth(), '2026-11');
  const first = await job.run();
  t.strictSame(first.files.map((f) => path.basename(f)), ['billing_reconciliation_2026-11.csv', 'billing_reconciliation_2026-11.xlsx']);
  const bytes = first.files.map((f) => fs.readFileSync(f));
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(first.files[1]);
  t.strictSame(book.worksheets.map((w) => w.name), ['Summary', 'Mismatches'], 'the stamped workbook opens');
  await new Promise((r) => setTimeout(r, 2100)); // past the zip format's 2-second clock
  const second = await job.run();
  second.files.forEach((f, i) => t.ok(fs.readFileSync(f).equals(bytes[i]), `${path.basename(f)} is byte-identical`));
  t.strictSame(fs.readdirSync(dir).sort(), ['billing_reconciliation_2026-11.csv', 'billing_reconciliation_2026-11.xlsx'], 'no temporary file left');
  t.equal(first.mismatched, expected('2026-11', [1, 2, 3, 4, 5, 6]).body.data.filter((d) => d.reconciliation.status === 'mismatch').length);
  const runs = await ctx.meta.selectFrom('job_runs').selectAll().where('job', '=', 'billing').execute();
  t.equal(runs.length, 2);
  t.ok(runs.every((r) => r.status === 'ok' && JSON.parse(r.stats!).month === '2026-11'));
});

t.test('billing validation', async (t) => {
  for (const [q, field] of [['', 'month'], ['month=2026-13', 'month'], ['month=2026-1', 'month'], ['month=2026-11&format=pdf', 'format'], ['month=2026-11&days=3', 'days']]) {
    const res = await get(`/api/billing/reconciliation?${q}`);
    t.equal(res.statusCode, 422, q);
    t.ok(res.json().errors[field], `${q} names ${field}`);
  }
  t.equal((await get('/api/billing/reconciliation?month=2026-11&account_id=2', 'acct1@test')).statusCode, 404);
});

t.test('a month that has not ended says so in JSON, CSV and XLSX; one not begun is a 422', async (t) => {
  // "Now" is 2027-01-10 12:00Z: January has begun everywhere and ended nowhere.
  const want = expected('2027-01', [1, 2, 3, 4, 5, 6]);
  const res = await get('/api/billing/reconciliation?month=2027-01');
  t.equal(res.statusCode, 200);
  t.strictSame(res.json(), want.body);
  t.equal(res.json().complete, false);
  t.ok(res.json().data.every((a: { complete: boolean }) => a.complete === false), 'every account: its month has not ended');
  t.equal((await get('/api/billing/reconciliation?month=2026-12')).json().complete, true, 'December has ended in every zone');
  const csv = (await get('/api/billing/reconciliation?month=2027-01&format=csv')).body.split('\r\n');
  const header = csv[0].split(',');
  const at = header.indexOf('Month complete');
  t.ok(at > 0, 'a CSV column');
  t.equal(csv[1].split(',')[at], 'false');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await get('/api/billing/reconciliation?month=2027-01&format=xlsx')).rawPayload as unknown as ExcelJS.Buffer);
  const summary = wb.getWorksheet('Summary')!;
  const col = (summary.getRow(1).values as unknown[]).indexOf('Month complete');
  t.ok(col > 0, 'a column of the Summary sheet');
  t.equal(summary.getRow(2).getCell(col).value, false);
  const ahead = await get('/api/billing/reconciliation?month=2027-02');
  t.equal(ahead.statusCode, 422);
  t.same(ahead.json().errors, { month: ['The month 2027-02 has not begun yet.'] });
});

t.test('the mismatched rows as JSON pages and as CSV', async (t) => {
  const want = expected('2026-11', [1, 2, 3, 4, 5, 6]).mismatches;
  const key = (m: { account_id: unknown; problem: unknown; ref_type: unknown; ref_id: unknown; ledger_id: unknown }) =>
    JSON.stringify([m.account_id, m.problem, m.ref_type, m.ref_id, m.ledger_id]);
  const seen: string[] = [];
  let pages = 0;
  for (let page = 1; ; page++) {
    const res = await get(`/api/billing/mismatches?month=2026-11&page=${page}&page_size=3`);
    t.equal(res.statusCode, 200);
    const body = res.json();
    t.equal(body.month, '2026-11');
    t.equal(body.pagination.total_items, want.length);
    t.equal(body.pagination.page_number, page);
    seen.push(...body.data.map(key));
    pages++;
    if (!body.pagination.has_next) break;
  }
  t.equal(pages, Math.ceil(want.length / 3));
  t.strictSame(seen.slice().sort(), want.map(key).sort(), 'every mismatched row once, over the pages');
  const past = (await get(`/api/billing/mismatches?month=2026-11&page=${pages + 1}&page_size=3`)).json();
  t.strictSame(past.data, [], 'a page past the last is empty');
  const csv = await get('/api/billing/mismatches?month=2026-11&format=csv');
  t.equal(csv.statusCode, 200);
  t.equal(csv.headers['content-disposition'], 'attachment; filename="billing_mismatches_2026-11.csv"');
  const rows = csv.body.trim().split('\r\n').slice(1).map((l: string) => l.split(','));
  const cell = (v: string) => (v === '' ? null : /^\d+$/.test(v) ? Number(v) : v);
  t.strictSame(rows.map((r: string[]) => key({ account_id: Number(r[0]), problem: r[1], ref_type: cell(r[2]), ref_id: cell(r[3]), ledger_id: cell(r[4]) })), seen, 'the CSV holds the same rows in the same order');
  const own = (await get('/api/billing/mismatches?month=2026-11', 'acct2@test')).json();
  t.ok(own.data.every((m: { account_id: number }) => m.account_id === 2), "an account user sees its own rows only");
  const bad = await get('/api/billing/mismatches?month=2026-11&format=csv&page=2');
  t.equal(bad.statusCode, 422, 'an export has no pages');
  t.ok(bad.json().errors.page);
});
