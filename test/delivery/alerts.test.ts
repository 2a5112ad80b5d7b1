import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { AlertEvaluator, transition } from '../../src/alerts/evaluator.ts';
import { DeliveryRenderer } from '../../src/delivery/render.ts';
import { LinkSigner } from '../../src/delivery/signing.ts';

import { DeliveryWorker } from '../../src/delivery/worker.ts';
import { ReportEngine } from '../../src/reports/engine.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import { FIXTURE_NOW, JWT_SECRET, makeApp } from '../helpers/fixture.ts';
import { Oracle } from '../helpers/oracle.ts';
import { webhookReceiver, withDelivery } from '../helpers/delivery.ts';

const rule = { pending_evaluations: 2, repeat_minutes: 60 };
const at = (min: number) => new Date(Date.parse('2027-01-10T12:00:00Z') + min * 60_000);

t.test('the state machine: Normal → Pending → Firing → Resolved, and too few calls on its own', async (t) => {
  let s = { state: 'normal' as const as 'normal' | 'pending' | 'firing' | 'resolved' | 'too_few_calls', held: 0, lastNotifiedAt: null as string | null };
  const step = (holds: boolean | 'too_few_calls', min: number) => {
    const n = transition(s, holds, rule, at(min));
    s = { state: n.state, held: n.held, lastNotifiedAt: n.notify ? at(min).toISOString() : s.lastNotifiedAt };
    return `${n.state}${n.notify ? `:${n.notify}` : ''}`;
  };
  t.same([step(true, 0), step(false, 1), step(true, 2), step(true, 3), step(true, 4), step(true, 63), step(false, 64), step(false, 65)],
    ['pending', 'normal', 'pending', 'firing:change', 'firing', 'firing:reminder', 'resolved:change', 'normal']);
  t.same([step('too_few_calls', 66), step(true, 67), step(true, 68), step('too_few_calls', 69), step('too_few_calls', 70), step(false, 71)],
    ['too_few_calls', 'pending', 'firing:change', 'too_few_calls:change', 'too_few_calls', 'normal'], 'too few calls is never OK, and leaving Firing for it is told');
  t.same(transition({ state: 'normal', held: 0, lastNotifiedAt: null }, true, { pending_evaluations: 1, repeat_minutes: 60 }, at(0)), { state: 'firing', held: 1, notify: 'change' }, 'one evaluation: fires at once');
});

const rx = await webhookReceiver([200]);
const ctx = await makeApp('alerts', 4000, undefined, withDelivery({ allowPrivateWebhooks: true }));
t.teardown(async () => {
  await rx.close();
  await ctx.close();
});

t.test('abandon-rate alerts fire per campaign and level, from the report\'s own figures, once per change', async (t) => {
  const token = await ctx.token('acct1@test');
  const auth = { authorization: `Bearer ${token}` };
  // Each dialled campaign of account 1.
  const campaigns = (await ctx.store.all(`SELECT id FROM campaigns WHERE account_id = 1 AND deleted_at IS NULL AND type NOT IN ('sms', 'inbound') ORDER BY id`)).map((r) => Number(r.id));
  // Each campaign's rate counted from the source rows: its answered dials started in the
  // 30 days (43,200 minutes) ending at the fixture's now, and the abandoned ones of them.
  const oracle = new Oracle(ctx.sourceFile);
  const from = FIXTURE_NOW.getTime() - 43_200 * 60_000;
  const rates = new Map<number, { rate: number | null; limit: number; total: number }>();
  for (const id of campaigns) {
    const answered = oracle.calls.filter((k) => k.campaign_id === id && oracle.isDial(k) && k.answered && k.started >= from && k.started < FIXTURE_NOW.getTime());
    const abandoned = answered.filter((k) => k.status === 'abandoned').length;
    const limit = Number(oracle.campaigns.find((c) => c.id === id)!.abandon_limit_pct);
    rates.set(id, { rate: answered.length ? Number(((abandoned * 100) / answered.length).toFixed(2)) : 0, limit, total: answered.length });
    // What the alert reads is the abandon-rate report (0 with no answered dial): it agrees with the source rows.
    const cur = (await ctx.app.inject({ url: `/api/telesales/reports/abandon-rate?campaign_id=${id}`, headers: auth })).json().data.current;
    t.same({ rate: cur.abandon_rate_pct, limit: Number(cur.limit_pct), total: cur.attempts_total }, rates.get(id), `campaign ${id}`);
  }
  const known = [...rates.values()].filter((r) => r.rate !== null).map((r) => r.rate!).sort((a, b) => a - b);
  t.ok(known.length >= 2, 'campaigns with a rate');
  // A warning level between the lowest and the highest rate: some campaigns are above it, some below.
  const level = Number(((known[0] + known[known.length - 1]) / 2).toFixed(2));
  const res = await ctx.app.inject({
    method: 'POST', url: '/api/alerts', headers: auth,
    payload: { name: 'Compliance', rule: { type: 'abandon_rate', levels: [level], min_calls: 1, pending_evaluations: 2, repeat_minutes: 1 }, zone: 'America/New_York', channels: [{ type: 'webhook', url: rx.url }] },
  });
  t.equal(res.statusCode, 201, res.body);
  const alert = res.json();
  // The evaluations are two and one minute ago, then now: the worker sends on the real
  // clock, which the receiver's signature check (5 minutes' tolerance) needs.
  let now = new Date(Date.now() - 120_000);
  const d = ctx.app as unknown as { engine: ReportEngine };
  const evaluator = new AlertEvaluator({ meta: ctx.meta, store: ctx.store, engine: d.engine, catalogue: reportCatalogue(), now: () => now });
  const worker = new DeliveryWorker({ meta: ctx.meta, store: ctx.store, links: new LinkSigner(JWT_SECRET), mailer: null, publicUrl: 'http://callboard.test', allowPrivateWebhooks: true, maxAttachBytes: 1e6, linkTtlSec: 60, renderer: new DeliveryRenderer(d.engine, reportCatalogue(), '/nonexistent') });

  t.equal((await evaluator.run()).notices, 0, 'first evaluation: pending, nobody told yet');
  const firing = [...rates].flatMap(([id, r]) => [
    ...(r.rate !== null && level !== r.limit && r.rate >= level ? [`campaign ${id} warning ${level}`] : []),
    ...(r.rate !== null && r.rate >= r.limit ? [`campaign ${id} limit ${r.limit}`] : []),
  ]).sort();
  t.ok(firing.length > 0, 'some instance holds');
  now = new Date(now.getTime() + 60_000);
  t.equal((await evaluator.run()).notices, firing.length, 'second evaluation: each holding instance fires, once');
  now = new Date(now.getTime() + 30_000);
  t.equal((await evaluator.run()).notices, 0, 'still firing within the repeat interval: quiet');
  await worker.run();
  const wh = new Webhook((alert.channels[0].secrets as string[])[0]);
  const told = rx.received.map((r) => (wh.verify(r.body, r.headers) as { type: string; data: { alert: { instance: string; state: string } } }));
  t.same(told.map((x) => x.data.alert.instance).sort(), firing);
  t.ok(told.every((x) => x.type === 'alert.notification' && x.data.alert.state === 'firing'));
  const states = (await ctx.app.inject({ url: `/api/subscriptions/${alert.id}`, headers: auth })).json().states as { instance: string; state: string }[];
  t.same(states.filter((s) => s.state === 'firing').map((s) => s.instance).sort(), firing, 'the states the API shows');
  const unknown = new Set([...rates].filter(([, r]) => r.rate === null || r.total < 1).map(([id]) => id));
  for (const s of states) {
    const id = Number(/^campaign (\d+)/.exec(s.instance)![1]);
    t.equal(s.state, unknown.has(id) ? 'too_few_calls' : firing.includes(s.instance) ? 'firing' : 'normal', s.instance);
  }
  // A reminder once the repeat interval has passed, under a new id.
  now = new Date();
  t.equal((await evaluator.run()).notices, firing.length);
  await worker.run();
  t.equal(new Set(rx.received.map((r) => r.headers['webhook-id'])).size, firing.length * 2);
});

t.test('too few calls to judge is its own state, never OK', async (t) => {
  const token = await ctx.token('acct1@test');
  const res = await ctx.app.inject({
    method: 'POST', url: '/api/alerts', headers: { authorization: `Bearer ${token}` },
    payload: { name: 'Strict', rule: { type: 'abandon_rate', min_calls: 1_000_000 }, channels: [{ type: 'webhook', url: rx.url }] },
  });
  t.equal(res.statusCode, 201);
  const evaluator = new AlertEvaluator({ meta: ctx.meta, store: ctx.store, engine: (ctx.app as unknown as { engine: ReportEngine }).engine, catalogue: reportCatalogue() });
  await evaluator.run();
  const states = await ctx.meta.selectFrom('alert_states').select(['instance', 'state']).where('subscription_id', '=', res.json().id).execute();
  t.ok(states.length > 0);
  t.ok(states.every((s) => s.state === 'too_few_calls'), 'every campaign: too few calls');
});

t.test('a level at or above a campaign\'s limit is watched too, never dropped', async (t) => {
  const token = await ctx.token('acct1@test');
  const res = await ctx.app.inject({
    method: 'POST', url: '/api/alerts', headers: { authorization: `Bearer ${token}` },
    payload: { name: 'High', rule: { type: 'abandon_rate', levels: [0.01, 99], min_calls: 1 }, channels: [{ type: 'webhook', url: rx.url }] },
  });
  const evaluator = new AlertEvaluator({ meta: ctx.meta, store: ctx.store, engine: (ctx.app as unknown as { engine: ReportEngine }).engine, catalogue: reportCatalogue() });
  await evaluator.run();
  const states = await ctx.meta.selectFrom('alert_states').select(['instance', 'state']).where('subscription_id', '=', res.json().id).execute();
  const high = states.filter((s) => s.instance.endsWith(' 99'));
  t.ok(high.length > 0, 'a 99 % level per campaign');
  t.ok(high.every((s) => s.state !== 'firing'), 'nobody abandons 99 %');
  t.ok(states.some((s) => s.instance.endsWith(' 0.01') && s.state === 'firing'), 'a 0.01 % level fires where calls were abandoned');
});

t.test('stale sync fires once the sync has failed for longer than its minutes', async (t) => {
  const admin = await ctx.token('admin@test');
  const res = await ctx.app.inject({ method: 'POST', url: '/api/alerts', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'Sync', rule: { type: 'stale_sync', minutes: 10 }, channels: [{ type: 'webhook', url: rx.url }] } });
  t.equal(res.statusCode, 201);
  let now = new Date();
  const add = (status: 'ok' | 'failed', minAgo: number) => ctx.meta.insertInto('job_runs').values({ job: 'sync', started_at: new Date(now.getTime() - minAgo * 60_000 - 1000).toISOString(), ended_at: new Date(now.getTime() - minAgo * 60_000).toISOString(), status, stats: null, error: status === 'failed' ? 'connect ECONNREFUSED' : null, pid: 1 }).execute();
  await add('ok', 15);
  await add('failed', 5);
  const evaluator = new AlertEvaluator({ meta: ctx.meta, store: ctx.store, engine: (ctx.app as unknown as { engine: ReportEngine }).engine, catalogue: reportCatalogue(), now: () => now });
  await evaluator.run();
  const state = async () => (await ctx.meta.selectFrom('alert_states').select('state').where('subscription_id', '=', res.json().id).executeTakeFirstOrThrow()).state;
  t.equal(await state(), 'firing', 'failing for 15 minutes, past 10');
  await add('ok', 0);
  now = new Date(now.getTime() + 1000);
  await evaluator.run();
  t.equal(await state(), 'resolved');
  const bad = await ctx.app.inject({ method: 'POST', url: '/api/alerts', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'x', rule: { type: 'stale_sync', minutes: 0, levels: [1] }, channels: [] } });
  t.equal(bad.statusCode, 422);
  t.same(Object.keys(bad.json().errors).sort(), ['channels', 'rule.levels', 'rule.minutes']);
});

t.test('caller-ID alerts: today\'s answer rate against its 7 days before, with the noise floor', async (t) => {
  const token = await ctx.token('acct1@test');
  const auth = { authorization: `Bearer ${token}` };
  const zone = 'America/New_York';
  // 18:00 in New York on 9 January: the fixture's last whole day with calls is "today".
  const now = new Date('2027-01-09T23:00:00Z');
  // Today and the 7 days before, as the caller-id-health report gives them (its figures are tested against the source rows elsewhere).
  const today = '2027-01-09';
  const rows = async (from: string, to: string) => (await ctx.app.inject({ url: `/api/telesales/reports/caller-id-health?date_from=${from}&date_to=${to}&timezone=${zone}`, headers: auth })).json().data as Record<string, any>[];
  const [now1, base] = await Promise.all([rows(today, today), rows('2027-01-02', '2027-01-08')]);
  const res = await ctx.app.inject({
    method: 'POST', url: '/api/alerts', headers: auth,
    payload: { name: 'CLI health', zone, rule: { type: 'caller_id_answer_rate', factor: 0.9, min_calls: 1, baseline_min_calls: 3 }, channels: [{ type: 'webhook', url: rx.url }] },
  });
  t.equal(res.statusCode, 201, res.body);
  const evaluator = new AlertEvaluator({ meta: ctx.meta, store: ctx.store, engine: (ctx.app as unknown as { engine: ReportEngine }).engine, catalogue: reportCatalogue(), now: () => now });
  await evaluator.run();
  const states = new Map((await ctx.meta.selectFrom('alert_states').select(['instance', 'state']).where('subscription_id', '=', res.json().id).execute()).map((r) => [r.instance, r.state]));
  t.equal(states.size, now1.length, 'one instance per caller ID');
  const byCid = new Map(base.map((r) => [String(r.cid), r]));
  let judged = 0;
  for (const r of now1) {
    const b = byCid.get(String(r.cid));
    const dials = Number(r.total_calls), bDials = Number(b?.total_calls ?? 0);
    const expected = dials < 1 || bDials < 3 ? 'too_few_calls'
      : Number(r.answered_calls) / dials < 0.9 * (Number(b!.answered_calls) / bDials) ? 'firing' : 'normal';
    if (expected !== 'too_few_calls') judged++;
    t.equal(states.get(`caller id ${r.cid}`), expected, String(r.cid));
  }
  t.ok(judged > 0, 'some caller IDs have calls enough to judge');
});
