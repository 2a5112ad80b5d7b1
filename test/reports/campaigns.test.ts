import ExcelJS from 'exceljs';
import { parseString } from 'fast-csv';
import { DateTime } from 'luxon';
import t from 'tap';
import { makeApp, sourceRows } from '../helpers/fixture.ts';

// Calls to leads of the first telesales campaign of account 1 made from another of its
// campaigns: they belong to that campaign's download, not to the lead's.
const crossCampaign: number[] = [];
const ctx = await makeApp('campaigns', 6000, (db) => {
  const [first, second] = db.prepare(`SELECT id FROM campaigns WHERE account_id = 1 AND deleted_at IS NULL AND type = 'telesales' ORDER BY id`).all() as { id: number }[];
  const picks = db.prepare(`SELECT c.id FROM calls c JOIN leads l ON l.id = c.lead_id
    WHERE l.campaign_id = ? AND c.campaign_id = ? AND c.credits > 0 AND l.deleted_at IS NULL ORDER BY c.id LIMIT 3`).all(first.id, first.id) as { id: number }[];
  for (const p of picks) db.prepare(`UPDATE calls SET campaign_id = ? WHERE id = ?`).run(second.id, p.id);
  crossCampaign.push(...picks.map((p) => p.id));
});
t.teardown(ctx.close);

const STATUSES = ['completed', 'hungup', 'unanswered', 'busy', 'rejected', 'failed', 'terminated', 'abandoned', 'blocked'];
const campaigns = sourceRows(ctx.sourceFile, 'campaigns');
const calls = sourceRows(ctx.sourceFile, 'calls');
const sms = sourceRows(ctx.sourceFile, 'sms_messages');
const leads = sourceRows(ctx.sourceFile, 'leads');

const units = (s: string | number) => Math.round(Number(s) * 10_000);
const hms = (sec: number) => [Math.floor(sec / 3600), Math.floor((sec % 3600) / 60), sec % 60].map((v) => String(v).padStart(2, '0')).join(':');

function expectedSummary(accounts: number[], page: number, size: number) {
  const live = campaigns.filter((c) => accounts.includes(c.account_id) && c.deleted_at === null).sort((a, b) => a.id - b.id);
  const pages = Math.ceil(live.length / size);
  return {
    pagination: { total_items: live.length, total_pages: pages, page_number: page, has_next: page < pages, has_previous: page > 1 },
    data: live.slice((page - 1) * size, page * size).map((c) => {
      const own = calls.filter((x) => x.campaign_id === c.id);
      const credits = own.reduce((s, x) => s + units(x.credits), 0) + sms.filter((m) => m.campaign_id === c.id).reduce((s, m) => s + units(m.credits), 0);
      return {
        id: c.id, name: c.name, type: c.type, status: c.status,
        total_numbers: leads.filter((l) => l.campaign_id === c.id && l.deleted_at === null).length,
        attempts: own.filter((x) => x.direction === 'outbound' && x.status !== 'blocked').length,
        calls_by_status: Object.fromEntries(STATUSES.map((s) => [s, own.filter((x) => x.status === s).length])),
        total_duration: hms(own.filter((x) => x.answered_at !== null).reduce((s, x) => s + x.talk_sec, 0)),
        credits_consumed: credits / 10_000,
      };
    }),
  };
}

/** The download's rows as CSV text cells, from the source (METRICS.md). */
function expectedRows(campaignId: number, zone: string): string[][] {
  return leads.filter((l) => l.campaign_id === campaignId && l.deleted_at === null).sort((a, b) => a.id - b.id).map((l) => {
    const own = calls.filter((c) => c.lead_id === l.id && c.campaign_id === campaignId).sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at) || b.id - a.id);
    const last = own[0];
    const credits = own.reduce((s, c) => s + units(c.credits), 0) / 10_000;
    const at = last ? DateTime.fromMillis(Date.parse(last.started_at), { zone }) : null;
    return [
      l.phone, last?.status ?? 'not started', last ? String(last.talk_sec) : '', last?.playback_sec == null ? '' : String(last.playback_sec),
      String(credits), String(own.filter((c) => c.direction === 'outbound' && c.status !== 'blocked').length),
      at ? at.toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS") + at.toFormat('ZZ') : '',
    ];
  });
}

async function get(url: string, email = 'acct1@test') {
  return ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${await ctx.token(email)}` } });
}

t.test('the summary pages through the campaigns of the scope', async (t) => {
  const first = await get('/api/system/campaigns/report/summary/');
  t.equal(first.statusCode, 200);
  t.strictSame(first.json(), expectedSummary([1], 1, 25));
  for (const page of [1, 2, 3]) {
    t.strictSame((await get(`/api/system/campaigns/report/summary/?page=${page}&page_size=4`)).json(), expectedSummary([1], page, 4), `page ${page} of 4`);
  }
  t.strictSame((await get('/api/system/campaigns/report/summary/?page=2&page_size=100', 'admin@test')).json(), expectedSummary([1, 2, 3, 4, 5, 6], 2, 100));
  t.strictSame((await get('/api/system/campaigns/report/summary?account_id=3', 'partner1@test')).json(), expectedSummary([3], 1, 25));
  const all = expectedSummary([1], 1, 100);
  t.ok(all.data.some((c) => c.credits_consumed > 0 && c.attempts > 0), 'the fixture has activity');
  t.ok(campaigns.some((c) => c.account_id === 1 && c.deleted_at !== null), 'and a deleted campaign, left out');
  for (const [q, field] of [['page=0', 'page'], ['page_size=101', 'page_size'], ['page_size=x', 'page_size'], ['days=3', 'days']]) {
    const res = await get(`/api/system/campaigns/report/summary/?${q}`);
    t.equal(res.statusCode, 422, q);
    t.ok(res.json().errors[field], `${q} names ${field}`);
  }
});

t.test('the per-campaign download: one row per lead, XLSX by default, CSV on request', async (t) => {
  const campaign = campaigns.find((c) => c.account_id === 1 && c.type === 'telesales' && c.deleted_at === null)!;
  const want = expectedRows(campaign.id, 'UTC');
  t.ok(want.length > 50 && want.some((r) => r[1] === 'not started') && want.some((r) => r[0].startsWith('0')), 'leads called and not, phones with a leading 0');

  const csv = await get(`/api/system/campaigns/report/download/?campaign_id=${campaign.id}&format=csv`);
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /text\/csv/);
  t.equal(csv.headers['content-disposition'], `attachment; filename="campaign_${campaign.id}_report.csv"`);
  const table: string[][] = await new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString(csv.body, { headers: false }).on('data', (r: string[]) => rows.push(r)).on('error', reject).on('end', () => resolve(rows));
  });
  t.strictSame(table[0], ['number', 'status', 'duration', 'playback', 'credit_consumed', 'attempts', 'last_attempt_at'], 'the header, exactly');
  t.strictSame(table.slice(1), want);
  t.equal(crossCampaign.length, 3, 'three calls of its leads were made from another campaign');
  const liveLeads = new Set(leads.filter((l) => l.campaign_id === campaign.id && l.deleted_at === null).map((l) => l.id));
  const ownCredits = calls.filter((c) => c.campaign_id === campaign.id && liveLeads.has(c.lead_id)).reduce((s, c) => s + units(c.credits), 0);
  t.equal(table.slice(1).reduce((s, r) => s + units(r[4]), 0), ownCredits, "the download's credits add up to the campaign's own calls to its leads");

  const xlsx = await get(`/api/system/campaigns/report/download/?campaign_id=${campaign.id}`);
  t.equal(xlsx.statusCode, 200);
  t.match(xlsx.headers['content-type'], /spreadsheetml/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0];
  t.equal(ws.rowCount, want.length + 1);
  want.forEach((row, i) => {
    const r = ws.getRow(i + 2);
    if (r.getCell(1).value !== row[0] || r.getCell(2).value !== row[1] || r.getCell(6).value !== Number(row[5]) || r.getCell(5).value !== Number(row[4])) {
      t.fail(`xlsx row ${i + 2}: ${JSON.stringify(r.values)} vs ${JSON.stringify(row)}`);
    }
  });
  t.equal(typeof ws.getRow(2).getCell(1).value, 'string', 'phone numbers are text');

  const ny = await get(`/api/system/campaigns/report/download/?campaign_id=${campaign.id}&format=csv&timezone=America/New_York`);
  t.match(ny.body, /-0[45]:00/, 'times in the request timezone');
});

t.test('download scope and validation', async (t) => {
  const deleted = campaigns.find((c) => c.account_id === 1 && c.deleted_at !== null)!;
  const other = campaigns.find((c) => c.account_id === 2)!;
  t.equal((await get(`/api/system/campaigns/report/download/?campaign_id=${deleted.id}`)).statusCode, 404, 'a deleted campaign');
  t.equal((await get(`/api/system/campaigns/report/download/?campaign_id=${other.id}`)).statusCode, 404, "another account's campaign");
  t.equal((await get(`/api/system/campaigns/report/download/?campaign_id=${other.id}`, 'admin@test')).statusCode, 200, 'an admin sees it');
  for (const [q, field] of [['', 'campaign_id'], ['campaign_id=1&format=json', 'format'], ['campaign_id=1&format=pdf', 'format'], ['campaign_id=abc', 'campaign_id']]) {
    const res = await get(`/api/system/campaigns/report/download/?${q}`);
    t.equal(res.statusCode, 422, q);
    t.ok(res.json().errors[field], `${q} names ${field}`);
  }
});
