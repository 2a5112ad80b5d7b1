import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseString } from 'fast-csv';
import { Webhook } from 'standardwebhooks';
import { addUser } from '../../src/auth/users.ts';
import { Mailer } from '../../src/delivery/channels.ts';
import { DeliveryRenderer } from '../../src/delivery/render.ts';
import { enqueue } from '../../src/delivery/outbox.ts';
import { RetentionJob } from '../../jobs/retention.ts';
import { LinkSigner } from '../../src/delivery/signing.ts';
import { addSubscription, checkSubscription, getSubscription } from '../../src/delivery/subscriptions.ts';
import { DeliveryWorker, type DeliveryOptions } from '../../src/delivery/worker.ts';
import { buildApp } from '../../src/http/app.ts';
import { openMeta } from '../../src/meta/db.ts';
import { ReportEngine } from '../../src/reports/engine.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { FIXTURE_NOW, JWT_SECRET, PASSWORD, makeSource, syncInto, tmpDir } from '../helpers/fixture.ts';
import { Oracle } from '../helpers/oracle.ts';
import { smtpSink, webhookReceiver } from '../helpers/delivery.ts';

// Scheduled delivery end to end: a real SMTP server read back by mailparser, a real webhook
// receiver verifying signatures with the standardwebhooks package, the real app and store.
const dir = tmpDir('delivery');
const sourceFile = await makeSource(dir, 3000);
const { store } = await syncInto(path.join(dir, 'store.duckdb'), sourceFile);
const meta = await openMeta(path.join(dir, 'meta.db'));
await addUser(meta, { email: 'acct1@test', password: PASSWORD, role: 'account', accountId: 1 });
await addUser(meta, { email: 'admin@test', password: PASSWORD, role: 'admin' });
const acct1 = (await meta.selectFrom('users').select('id').where('email', '=', 'acct1@test').executeTakeFirstOrThrow()).id;
const reports = reportCatalogue();
const filesDir = path.join(dir, 'deliveries');
const links = new LinkSigner(JWT_SECRET);
const smtp = await smtpSink();
const oracle = new Oracle(sourceFile);

let clock = new Date('2026-11-02T11:00:00Z');
/** A worker on the shared outbox; each test gives its own clock, channels and limits. */
const worker = (o: Partial<DeliveryOptions> = {}) => new DeliveryWorker({
  meta, store, links, mailer: new Mailer(smtp.url, 'Callboard <reports@callboard.test>'), publicUrl: 'http://callboard.test',
  maxAttachBytes: 10e6, linkTtlSec: 3600, renderer: new DeliveryRenderer(new ReportEngine(store, () => FIXTURE_NOW), reports, filesDir),
  now: () => clock, random: () => 0, allowPrivateWebhooks: true, ...o,
});
const main = worker();
const app = await buildApp({
  store, meta, jwtSecret: JWT_SECRET, reports, now: () => FIXTURE_NOW, logLevel: 'silent',
  delivery: { worker: main, links, dir: filesDir, limits: { allowPrivateWebhooks: true }, email: true },
});
t.teardown(async () => {
  await app.close();
  await smtp.close();
  await store.close();
  await meta.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});
const token = (await app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'acct1@test', password: PASSWORD } })).json().data.token.access as string;
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
const subscribe = (body: Record<string, unknown>, at: Date) => addSubscription(meta, acct1, checkSubscription(body, reports, { allowPrivateWebhooks: true }, at), at);
const csvRows = (text: string): Promise<Record<string, string>[]> => new Promise((resolve, reject) => {
  const rows: Record<string, string>[] = [];
  parseString(text.replace(/^\uFEFF/, ''), { headers: true }).on('data', (r: Record<string, string>) => rows.push(r)).on('error', reject).on('end', () => resolve(rows));
});
const deliveriesOf = (id: number) => meta.selectFrom('deliveries').selectAll().where('subscription_id', '=', id).orderBy('created_at').execute();

t.test('a subscription is checked field by field, the report\'s own parameter rules included', async (t) => {
  const bad = await api('POST', '/api/subscriptions', {
    name: '', report: 'telesales/nope', cron: '0 25 * * *', zone: 'Mars/Olympus', format: 'pdf', window: 'fortnight',
    channels: [{ type: 'email', to: ['not-an-address'] }, { type: 'carrier-pigeon' }], colour: 'red',
  });
  t.equal(bad.statusCode, 422);
  t.same(Object.keys(bad.json().errors).sort(), ['channels.0.to', 'channels.1.type', 'colour', 'cron', 'format', 'name', 'report', 'window', 'zone']);
  const params = await api('POST', '/api/subscriptions', {
    name: 'x', report: 'telesales/dashboard', params: { campaign_id: 'abc', date_from: '2026-01-01' }, window: 'yesterday', cron: '0 7 * * *', zone: 'UTC',
    channels: [{ type: 'webhook', url: 'ftp://example.com/' }],
  });
  t.equal(params.statusCode, 422);
  t.match(params.json().errors, { 'params.date_from': [/comes from the window/], 'channels.0.url': [/http\(s\)/] });
  const needsWindow = await api('POST', '/api/subscriptions', { name: 'x', report: 'calls/calls', cron: '0 7 * * *', zone: 'UTC', channels: [{ type: 'email', to: ['a@b.test'] }] });
  t.match(needsWindow.json().errors, { window: [/needs a window/] });
  const scope = await api('POST', '/api/subscriptions', {
    name: 'x', report: 'telesales/dashboard', params: { account_id: 2 }, window: 'yesterday', cron: '0 7 * * *', zone: 'UTC', channels: [{ type: 'email', to: ['a@b.test'] }],
  });
  t.equal(scope.statusCode, 422, 'an account outside the caller\'s scope');
  t.match(scope.json().errors, { params: [/No account 2/] });
  const priv = checkSubscription.bind(null, { name: 'x', report: 'company/dashboard', cron: '0 7 * * *', zone: 'UTC', format: 'html', channels: [{ type: 'webhook', url: 'http://169.254.169.254/latest' }] }, reports, {});
  t.throws(priv, /invalid/, 'a link-local webhook is refused unless allowed');
});

t.test('created through the API: shown with its next runs, paused and resumed, deleted', async (t) => {
  const res = await api('POST', '/api/subscriptions', {
    name: 'Weekly agents', report: 'telesales/agent-performance', window: 'last_7_days', cron: '0 7 * * 1', zone: 'Europe/London', format: 'xlsx',
    channels: [{ type: 'email', to: ['boss@acme.test'] }, { type: 'webhook', url: 'https://hooks.acme.test/callboard' }],
  });
  t.equal(res.statusCode, 201, res.body);
  const s = res.json();
  t.equal(s.next_runs.length, 5);
  for (const r of s.next_runs) t.equal(new Date(r).getUTCDay(), 1, 'a Monday');
  t.match(s.channels[1].secrets[0], /^whsec_/);
  t.equal((await api('PATCH', `/api/subscriptions/${s.id}`, { paused: true })).json().paused_at !== null, true);
  t.same((await api('GET', `/api/subscriptions/${s.id}`)).json().next_runs, [], 'paused: no runs');
  t.equal((await api('PATCH', `/api/subscriptions/${s.id}`, { paused: false, cron: '* * * * *' })).statusCode, 422);
  t.equal((await api('PATCH', `/api/subscriptions/${s.id}`, { paused: false })).json().paused_at, null);
  const other = (await app.inject({ method: 'POST', url: '/api/accounts/login/', payload: { email: 'admin@test', password: PASSWORD } })).json().data.token.access;
  t.equal((await app.inject({ url: `/api/subscriptions/${s.id}`, headers: { authorization: `Bearer ${other}` } })).statusCode, 200, 'an admin sees it');
  t.equal((await api('DELETE', `/api/subscriptions/${s.id}`)).statusCode, 204);
  t.equal((await api('GET', `/api/subscriptions/${s.id}`)).statusCode, 404);
});

t.test('e-mail: the summary, a text part, and the file attached, for the window of the run in its zone (a 25-hour day)', async (t) => {
  clock = new Date('2026-11-02T11:00:00Z');
  const s = await subscribe({ name: 'Daily calls', report: 'calls/calls', window: 'yesterday', cron: '0 7 * * *', zone: 'America/New_York', format: 'csv', channels: [{ type: 'email', to: ['ops@acme.test'] }] }, clock);
  t.equal(s.nextRunAt, '2026-11-02T12:00:00.000Z', '07:00 in New York, standard time again');
  const before = smtp.messages.length;
  clock = new Date('2026-11-02T12:00:20Z');
  const r = await main.run();
  t.match(r, { queued: 1, sent: 1 });
  const m = smtp.messages[before];
  t.match(m.subject, /^Daily calls: Call detail records?, 2026-11-01/);
  t.match(m.messageId, /^<msg_[0-9a-f]{24}@callboard>$/);
  t.ok(m.html && m.text, 'an HTML and a text part');
  t.equal(m.attachments.length, 1);
  const csv = m.attachments[0].content.toString('utf8');
  // 2026-11-01 in New York: from 04:00Z to 05:00Z the next day, 25 hours.
  const from = Date.parse('2026-11-01T04:00:00Z'), to = Date.parse('2026-11-02T05:00:00Z');
  const expected = oracle.window({ accounts: [1], from, to, tz: 'America/New_York' }).map((c) => String(c.id));
  const rows = await csvRows(csv);
  t.ok(expected.length > 0, 'the day has calls');
  t.same(rows.map((x) => x.id ?? x.ID ?? Object.values(x)[0]).sort(), expected.sort(), 'exactly the calls of the 25-hour local day');
  const api2 = await app.inject({ url: `/api/calls?date_from=2026-11-01&date_to=2026-11-01&timezone=America/New_York&format=csv`, headers: { authorization: `Bearer ${token}` } });
  t.equal(csv, api2.body, 'the attachment is byte for byte the API\'s export of the same view');
  const log = (await api('GET', `/api/subscriptions/${s.id}/deliveries`)).json().data;
  t.match(log, [{ status: 'sent', attempts: 1, late: false, occurrence: '2026-11-02T12:00:00.000Z' }]);
  t.equal(`<${log[0].id}@callboard>`, m.messageId, 'the log names the Message-ID');
  t.equal((await main.run()).queued, 0, 'nothing more until the next run');
});

t.test('over the size cap the e-mail links to a signed download that expires; never a cut attachment', async (t) => {
  clock = new Date('2026-11-02T11:00:00Z');
  // The worker's clock is a month behind the server's: its links must outlive that.
  const capped = worker({ maxAttachBytes: 2000, linkTtlSec: 90 * 86_400 });
  const s = await subscribe({ name: 'Big file', report: 'calls/calls', window: 'last_7_days', cron: '0 7 * * *', zone: 'America/New_York', format: 'csv', channels: [{ type: 'email', to: ['ops@acme.test'] }] }, clock);
  const before = smtp.messages.length;
  clock = new Date('2026-11-02T12:00:10Z');
  await capped.run();
  const m = smtp.messages.slice(before).find((x) => x.subject?.startsWith('Big file'))!;
  t.ok(m, 'sent');
  t.equal(m.attachments.length, 0, 'no attachment');
  t.match(m.text!, /is larger than the 0\.0 MB limit for attachments, so it is not attached/);
  const url = /(http:\/\/callboard\.test\/api\/deliveries\/file\?t=\S+)/.exec(m.text!)![1];
  const file = await app.inject({ url: url.replace('http://callboard.test', ''), headers: { 'accept-encoding': 'br, gzip, deflate' } });
  t.equal(file.statusCode, 200);
  t.equal(file.headers['content-encoding'], undefined, 'the file goes as it is, whatever the client accepts');
  const view = await app.inject({ url: '/api/calls?date_from=2026-10-26&date_to=2026-11-01&timezone=America/New_York&format=csv', headers: { authorization: `Bearer ${token}` } });
  t.ok(file.body.length > 2000);
  t.equal(file.body, view.body, 'the link serves the whole file');
  const tampered = url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  t.equal((await app.inject({ url: tampered.replace('http://callboard.test', '') })).statusCode, 404);
  const expired = links.sign('1/x/none.csv', new Date(Date.now() - 1000));
  t.equal((await app.inject({ url: `/api/deliveries/file?t=${expired}` })).statusCode, 410);
  const escape = links.sign('../meta.db', new Date(Date.now() + 60_000));
  t.equal((await app.inject({ url: `/api/deliveries/file?t=${escape}` })).statusCode, 404, 'no file outside the deliveries');
  t.match((await deliveriesOf(s.id))[0], { status: 'sent' });
});

t.test('after downtime only the latest missed run is sent, once, marked late', async (t) => {
  clock = new Date('2026-11-10T09:30:00Z');
  const s = await subscribe({ name: 'Hourly', report: 'company/dashboard', cron: '0 * * * *', zone: 'Asia/Kathmandu', format: 'html', channels: [{ type: 'email', to: ['ops@acme.test'] }] }, clock);
  t.equal(s.nextRunAt, '2026-11-10T10:15:00.000Z', 'on the hour in Kathmandu (UTC+05:45) is :15 in UTC');
  // Down through three runs (10:15, 11:15, 12:15); a new process starts at 12:20.
  clock = new Date('2026-11-10T12:20:00Z');
  const restarted = worker();
  const before = smtp.messages.length;
  await restarted.run();
  await restarted.run();
  await worker().run();
  const rows = await deliveriesOf(s.id);
  t.equal(rows.length, 1, 'one delivery, not three');
  t.match(rows[0], { occurrence: '2026-11-10T12:15:00.000Z', late: 1, status: 'sent' });
  const sent = smtp.messages.slice(before).filter((m) => m.subject?.includes('Hourly'));
  t.equal(sent.length, 1);
  t.match(sent[0].subject, /^\[late\] Hourly/);
  t.equal(sent[0].headers.get('x-callboard-late'), 'true');
  t.equal((await getSubscription(meta, s.id, null))!.nextRunAt, '2026-11-10T13:15:00.000Z');
});

t.test('webhooks: signed (verified by standardwebhooks), retried on 500 and on no answer under the same id, 410 unsubscribes', async (t) => {
  const rx = await webhookReceiver([500, 'hang', 302, 200]);
  t.teardown(rx.close);
  clock = new Date();
  const real = () => new Date();
  const hooks = worker({ now: real, webhookTimeoutMs: 300, backoff: { baseMs: 1, maxMs: 1, giveUpMs: 60_000 } });
  // A schedule that never comes round during the test: its runs are queued here, one by one.
  const s = await subscribe({ name: 'To BI', report: 'telesales/dashboard', window: 'yesterday', cron: '0 0 1 1 *', zone: 'America/New_York', format: 'xlsx', channels: [{ type: 'webhook', url: rx.url }] }, new Date());
  const run = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  t.equal(await enqueue(meta, s, run.toISOString(), new Date()), 1);
  const secret = s.channels[0].type === 'webhook' ? s.channels[0].secrets[0].secret : '';
  for (let i = 0; i < 6 && !rx.received.some((r) => r.answered === 200); i++) {
    await hooks.run();
    await new Promise((r) => setTimeout(r, 20));
  }
  t.same(rx.received.map((r) => r.answered), [500, 'hang', 302, 200]);
  const ids = new Set(rx.received.map((r) => r.headers['webhook-id']));
  t.equal(ids.size, 1, 'every attempt carries the same webhook-id');
  const wh = new Webhook(secret);
  for (const r of rx.received) {
    const payload = wh.verify(r.body, r.headers) as { type: string; data: Record<string, any> };
    t.equal(payload.type, 'report.delivered');
  }
  const payload = JSON.parse(rx.received[3].body);
  t.match(payload.data, { subscription_id: s.id, report: 'telesales/dashboard', format: 'xlsx', window: { zone: 'America/New_York' }, file: { filename: /\.xlsx$/ } });
  t.ok(payload.data.body?.data, 'the small JSON answer travels whole');
  const file = await app.inject({ url: payload.data.file.url.replace('http://callboard.test', '') });
  t.equal(file.statusCode, 200);
  t.equal(file.rawPayload.subarray(0, 2).toString(), 'PK', 'an XLSX');
  const log = (await api('GET', `/api/subscriptions/${s.id}/deliveries`)).json().data;
  t.match(log[log.length - 1], { status: 'sent', attempts: 4 });
  // Redelivery sends it again under the same id.
  const redo = await api('POST', `/api/subscriptions/${s.id}/deliveries/${log[log.length - 1].id}/redeliver`);
  t.equal(redo.statusCode, 202);
  await main.run();
  await hooks.run();
  t.equal(rx.received.at(-1)!.headers['webhook-id'], log[log.length - 1].id);
  // A 410: the channel is removed, and a subscription with no channel left is paused.
  rx.script.splice(0, rx.script.length, 410);
  // The next run's delivery (its occurrence is another minute than the first's).
  t.equal(await enqueue(meta, (await getSubscription(meta, s.id, null))!, new Date(run.getTime() + 60_000).toISOString(), new Date()), 1);
  await hooks.run();
  const after = (await getSubscription(meta, s.id, null))!;
  t.same(after.channels, []);
  t.not(after.pausedAt, null);
  t.match((await deliveriesOf(s.id)).at(-1), { status: 'gone' });
});

t.test('a webhook that keeps failing is given up after its retry period, with the error kept', async (t) => {
  const rx = await webhookReceiver([503]);
  t.teardown(rx.close);
  let now = Date.now();
  const hooks = worker({ now: () => new Date(now), webhookTimeoutMs: 300, random: () => 0.5, backoff: { baseMs: 30_000, maxMs: 3_600_000, giveUpMs: 24 * 3_600_000 } });
  const s = await subscribe({ name: 'Failing', report: 'company/dashboard', cron: '0 0 1 1 *', zone: 'UTC', format: 'html', channels: [{ type: 'webhook', url: rx.url }] }, new Date(now));
  await enqueue(meta, s, new Date(now).toISOString(), new Date(now));
  const waits: number[] = [];
  for (let i = 0; i < 200; i++) {
    await hooks.run();
    const row = (await deliveriesOf(s.id))[0];
    if (row.status !== 'pending') break;
    waits.push(Date.parse(row.next_attempt_at) - now);
    now = Date.parse(row.next_attempt_at);
  }
  const row = (await deliveriesOf(s.id))[0];
  t.equal(row.status, 'failed');
  t.match(row.last_error, /HTTP 503/);
  t.equal(waits[0], 15_000, 'half (the jitter) of 30 s');
  t.equal(waits[1], 30_000, 'half of 60 s');
  t.ok(waits.every((w) => w <= 3_600_000), 'capped at an hour');
  t.equal(Date.parse(row.last_attempt_at!) - Date.parse(row.first_attempt_at!), 24 * 3_600_000, 'the last attempt is at the end of the 24 hours');
  t.equal(new Set(rx.received.map((r) => r.headers['webhook-id'])).size, 1);
});

t.test('retention removes delivered files once their links have expired, and the finished log after the retention days', async (t) => {
  const before = fs.readdirSync(filesDir).length;
  t.ok(before > 0, 'files were delivered');
  const kept = await new RetentionJob(store, meta, 30, () => new Date(), { dir: filesDir, keepSec: 3600 }).run();
  t.equal(kept.delivered_files, 0, 'links still valid: nothing removed');
  const later = await new RetentionJob(store, meta, 30, () => new Date(Date.now() + 40 * 86_400_000), { dir: filesDir, keepSec: 3600 }).run();
  t.ok(later.delivered_files > 0);
  t.same(fs.readdirSync(filesDir), []);
  t.ok(later.deliveries > 0);
  t.equal((await meta.selectFrom('deliveries').select('id').where('status', 'in', ['sent', 'failed', 'gone']).execute()).length, 0);
});

t.test('a secret rotation signs with both secrets for a day; a private address is refused at send time unless allowed', async (t) => {
  const rx = await webhookReceiver([200]);
  t.teardown(rx.close);
  const res = await api('POST', '/api/subscriptions', { name: 'Rotating', report: 'company/dashboard', cron: '0 0 1 1 *', zone: 'UTC', format: 'html', channels: [{ type: 'webhook', url: rx.url }] });
  const s = res.json();
  const old = s.channels[0].secrets[0] as string;
  const rot = await api('POST', `/api/subscriptions/${s.id}/channels/ch1/rotate-secret`);
  t.equal(rot.statusCode, 200);
  const [fresh, kept] = rot.json().secrets as string[];
  t.equal(kept, old);
  t.not(fresh, old);
  const now = () => new Date();
  await enqueue(meta, (await getSubscription(meta, s.id, null))!, 'rotation', now());
  await worker({ now }).run();
  const r = rx.received.at(-1)!;
  t.match(r.headers['webhook-signature'], /^v1,\S+ v1,\S+$/, 'two signatures');
  t.ok(new Webhook(fresh).verify(r.body, r.headers), 'the new secret verifies');
  t.ok(new Webhook(old).verify(r.body, r.headers), 'the old secret still verifies');
  // The same channel from a worker that may not reach private addresses.
  await enqueue(meta, (await getSubscription(meta, s.id, null))!, 'private', now());
  const count = rx.received.length;
  await worker({ now, allowPrivateWebhooks: false }).run();
  t.equal(rx.received.length, count, 'nothing sent');
  t.match((await meta.selectFrom('deliveries').selectAll().where('occurrence', '=', 'private').executeTakeFirstOrThrow()), { status: 'failed', last_error: /loopback or private address/ });
});

t.test('a mail server with a smaller size limit than ours: the same e-mail again with a link, never a cut file', async (t) => {
  const small = await smtpSink({ maxBytes: 60_000 });
  t.teardown(small.close);
  clock = new Date('2026-11-02T11:00:00Z');
  const s = await subscribe({ name: 'Too big for them', report: 'calls/calls', window: 'last_month', cron: '0 7 * * *', zone: 'America/New_York', format: 'csv', channels: [{ type: 'email', to: ['ops@acme.test'] }] }, clock);
  clock = new Date('2026-11-02T12:00:10Z');
  await worker({ mailer: new Mailer(small.url, 'Callboard <reports@callboard.test>'), linkTtlSec: 90 * 86_400 }).run();
  t.equal(small.messages.length, 1, 'one message accepted');
  const m = small.messages[0];
  t.equal(m.attachments.length, 0);
  t.match(m.text!, /larger than the mail server accepts, so it is not attached/);
  const url = /(http:\/\/callboard\.test\/api\/deliveries\/file\?t=\S+)/.exec(m.text!)![1];
  const file = await app.inject({ url: url.replace('http://callboard.test', '') });
  t.ok(file.body.length > 60_000, 'the whole file is behind the link');
  const view = await app.inject({ url: '/api/calls?date_from=2026-10-01&date_to=2026-10-31&timezone=America/New_York&format=csv', headers: { authorization: `Bearer ${token}` } });
  t.equal(file.body, view.body);
  t.match((await deliveriesOf(s.id))[0], { status: 'sent', attempts: 1 });
});
