-- The company dashboard (docs/reports.md "Company dashboard"): the last `days` × 24 h ending
-- now, over the caller's accounts. Each table is read once, every figure of it taken in
-- the same pass; lists come back as lists of structs and credits as exact decimal text
-- (the declaration turns them into JSON numbers).
WITH
-- The ledger of the window by slot and kind, from ledger_slots and its partial end slots.
ledger_window AS MATERIALIZED (
  SELECT slot15, kind, sum(credits) AS credits
  FROM window_ledger($accounts, $from::TIMESTAMP, $now::TIMESTAMP)
  GROUP BY ALL
),
ledger AS (
  SELECT
    coalesce((SELECT sum(credits) FROM ledger_window WHERE kind = 'purchase'), 0)::VARCHAR AS credits_purchased,
    (-coalesce((SELECT sum(credits) FROM ledger_window WHERE kind = 'usage'), 0))::VARCHAR AS credits_used,
    -- Every row before now: the window's, and all before it (from the first instant DuckDB's TIMESTAMP holds).
    (coalesce((SELECT sum(credits) FROM window_ledger($accounts, TIMESTAMP '0001-01-01', $from::TIMESTAMP)), 0)
      + coalesce((SELECT sum(credits) FROM ledger_window), 0))::VARCHAR AS remaining_credits
),
usage_days AS MATERIALIZED (
  -- A slot never straddles a UTC day.
  SELECT make_timestamp(slot15::BIGINT * 900000000)::DATE AS day, -sum(credits) AS credits
  FROM ledger_window WHERE kind = 'usage'
  GROUP BY 1
),
-- Outbound calls of the window by campaign and status from the call_groups roll-up
-- (whole slots) and the calls of its partial end slots; the figures below are sums of it.
outbound AS MATERIALIZED (
  SELECT * FROM window_call_groups($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
  WHERE direction = 'outbound'
),
live_campaigns AS MATERIALIZED (
  SELECT id, name, type, status FROM campaigns
  WHERE in_scope(account_id, $accounts)
    AND deleted_at IS NULL
),
completion AS (
  SELECT c.id, c.name, d.dials, d.completed
  FROM (SELECT campaign_id, sum(calls)::BIGINT AS dials, coalesce(sum(calls) FILTER (WHERE status = 'completed'), 0)::BIGINT AS completed
        FROM outbound WHERE status <> 'blocked' GROUP BY campaign_id) d
  JOIN live_campaigns c ON c.id = d.campaign_id
)
SELECT
  l.credits_purchased, l.credits_used, l.remaining_credits,
  cs.*,
  p.outbound_calls,
  (SELECT count(*) FROM sms_messages
    WHERE in_scope(account_id, $accounts)
      AND sent_at >= $from::TIMESTAMP AND sent_at < $to::TIMESTAMP) AS outbound_sms,
  p.talk_sec,
  (SELECT count(*) FROM phone_numbers
    WHERE in_scope(account_id, $accounts)
      AND released_at IS NULL) AS owned_numbers,
  p.messages_played, p.playback_sec, p.playback_pct_sum, p.playback_n,
  p.playback_0_25, p.playback_25_50, p.playback_50_75, p.playback_75_100,
  -- Ratios are compared exactly enough as doubles: two different fractions of counts
  -- below 2^53 never round to the same double, and equal ones always do.
  (SELECT list({'id': id, 'name': name, 'dials': dials, 'completed': completed}
     ORDER BY completed::DOUBLE / dials DESC, dials DESC, id)[1] FROM completion) AS top_campaign,
  (SELECT list({'status': status, 'n': n}) FROM (SELECT status, sum(calls)::BIGINT AS n FROM outbound GROUP BY status)) AS outcomes,
  (SELECT list({'date': strftime(d.day, '%Y-%m-%d'), 'credits': coalesce(u.credits, 0)::VARCHAR} ORDER BY d.day)
     FROM (SELECT unnest(range(date_trunc('day', $from::TIMESTAMP), date_trunc('day', $now::TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY))::DATE AS day) d
     LEFT JOIN usage_days u ON u.day = d.day) AS usage_overtime
FROM ledger l,
  (SELECT
     count(*) AS campaigns_total,
     count(*) FILTER (WHERE status = 'draft') AS campaigns_draft,
     count(*) FILTER (WHERE status = 'active') AS campaigns_active,
     count(*) FILTER (WHERE status = 'paused') AS campaigns_paused,
     count(*) FILTER (WHERE status = 'completed') AS campaigns_completed,
     count(*) FILTER (WHERE type = 'voice_broadcast') AS type_voice_broadcast,
     count(*) FILTER (WHERE type = 'sms') AS type_sms,
     count(*) FILTER (WHERE type = 'telesales') AS type_telesales,
     count(*) FILTER (WHERE type = 'inbound') AS type_inbound
   FROM live_campaigns) cs,
  (SELECT
     coalesce(sum(calls), 0)::BIGINT AS outbound_calls,
     coalesce(sum(talk_sec), 0)::BIGINT AS talk_sec,
     coalesce(sum(messages_played), 0)::BIGINT AS messages_played,
     coalesce(sum(playback_sec), 0)::BIGINT AS playback_sec,
     coalesce(sum(playback_pct_sum), 0) AS playback_pct_sum,
     coalesce(sum(messages), 0)::BIGINT AS playback_n,
     coalesce(sum(pct_0_25), 0)::BIGINT AS playback_0_25,
     coalesce(sum(pct_25_50), 0)::BIGINT AS playback_25_50,
     coalesce(sum(pct_50_75), 0)::BIGINT AS playback_50_75,
     coalesce(sum(pct_75_100), 0)::BIGINT AS playback_75_100
   FROM outbound WHERE status <> 'blocked') p
