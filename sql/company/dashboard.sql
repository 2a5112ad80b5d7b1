-- The company dashboard (METRICS.md "Company dashboard"): the last `days` × 24 h ending
-- now, over the caller's accounts. Each table is read once, every figure of it taken in
-- the same pass; lists come back as lists of structs and credits as exact decimal text
-- (the declaration turns them into JSON numbers).
WITH
ledger AS (
  SELECT
    coalesce(sum(credits) FILTER (WHERE kind = 'purchase' AND created_at >= $from::TIMESTAMP), 0)::VARCHAR AS credits_purchased,
    (-coalesce(sum(credits) FILTER (WHERE kind = 'usage' AND created_at >= $from::TIMESTAMP), 0))::VARCHAR AS credits_used,
    coalesce(sum(credits), 0)::VARCHAR AS remaining_credits
  FROM credit_transactions
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND created_at < $now::TIMESTAMP
),
usage_days AS MATERIALIZED (
  SELECT created_at::DATE AS day, -sum(credits) AS credits FROM credit_transactions
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND kind = 'usage' AND created_at >= $from::TIMESTAMP AND created_at < $now::TIMESTAMP
  GROUP BY 1
),
-- Outbound calls of the window by campaign and status, with the voice-broadcast playback
-- figures of the dials that had a message: everything the call figures need, one pass.
outbound AS MATERIALIZED (
  SELECT campaign_id, status, is_dial,
    count(*) AS n,
    coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0) AS talk_sec,
    count(*) FILTER (WHERE message_sec > 0) AS played_n,
    count(*) FILTER (WHERE message_sec > 0 AND playback_sec > 0) AS messages_played,
    coalesce(sum(coalesce(playback_sec, 0)) FILTER (WHERE message_sec > 0), 0) AS playback_sec,
    coalesce(sum(coalesce(playback_sec, 0) * 100.0 / message_sec) FILTER (WHERE message_sec > 0), 0) AS pct_sum,
    count(*) FILTER (WHERE message_sec > 0 AND coalesce(playback_sec, 0) * 100.0 / message_sec < 25) AS p0_25,
    count(*) FILTER (WHERE message_sec > 0 AND coalesce(playback_sec, 0) * 100.0 / message_sec >= 25 AND coalesce(playback_sec, 0) * 100.0 / message_sec < 50) AS p25_50,
    count(*) FILTER (WHERE message_sec > 0 AND coalesce(playback_sec, 0) * 100.0 / message_sec >= 50 AND coalesce(playback_sec, 0) * 100.0 / message_sec < 75) AS p50_75,
    count(*) FILTER (WHERE message_sec > 0 AND coalesce(playback_sec, 0) * 100.0 / message_sec >= 75) AS p75_100
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, NULL, NULL, NULL)
  WHERE direction = 'outbound'
  GROUP BY ALL
),
dials AS (SELECT * FROM outbound WHERE is_dial),
live_campaigns AS MATERIALIZED (
  SELECT id, name, type, status FROM campaigns
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND deleted_at IS NULL
),
completion AS (
  SELECT c.id, c.name, sum(d.n) AS dials, coalesce(sum(d.n) FILTER (WHERE d.status = 'completed'), 0) AS completed
  FROM dials d JOIN live_campaigns c ON c.id = d.campaign_id
  GROUP BY c.id, c.name
)
SELECT
  l.credits_purchased, l.credits_used, l.remaining_credits,
  cs.*,
  (SELECT coalesce(sum(n), 0) FROM dials) AS outbound_calls,
  (SELECT count(*) FROM sms_messages
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND sent_at >= $from::TIMESTAMP AND sent_at < $to::TIMESTAMP) AS outbound_sms,
  (SELECT coalesce(sum(talk_sec), 0) FROM dials) AS talk_sec,
  (SELECT count(*) FROM phone_numbers
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND released_at IS NULL) AS owned_numbers,
  p.*,
  -- Ratios are compared exactly enough as doubles: two different fractions of counts
  -- below 2^53 never round to the same double, and equal ones always do.
  (SELECT list({'id': id, 'name': name, 'dials': dials, 'completed': completed}
     ORDER BY completed::DOUBLE / dials DESC, dials DESC, id)[1] FROM completion) AS top_campaign,
  (SELECT list({'status': status, 'n': n}) FROM (SELECT status, sum(n) AS n FROM outbound GROUP BY status)) AS outcomes,
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
     coalesce(sum(messages_played), 0) AS messages_played,
     coalesce(sum(playback_sec), 0) AS playback_sec,
     coalesce(sum(pct_sum), 0) AS playback_pct_sum,
     coalesce(sum(played_n), 0) AS playback_n,
     coalesce(sum(p0_25), 0) AS playback_0_25,
     coalesce(sum(p25_50), 0) AS playback_25_50,
     coalesce(sum(p50_75), 0) AS playback_50_75,
     coalesce(sum(p75_100), 0) AS playback_75_100
   FROM dials) p
