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
-- Outbound calls of the window, the playback share once per call (null without a
-- message); the figures below are ungrouped sums over it, and only the campaign
-- ranking and the outcomes group it (grouping everything by campaign and status cost
-- more than all the rest).
outbound AS MATERIALIZED (
  SELECT campaign_id, status, is_dial, is_answered, talk_sec, coalesce(playback_sec, 0) AS played,
    CASE WHEN message_sec > 0 THEN coalesce(playback_sec, 0) * 100.0 / message_sec END AS pct
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, NULL, NULL, NULL)
  WHERE direction = 'outbound'
),
live_campaigns AS MATERIALIZED (
  SELECT id, name, type, status FROM campaigns
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND deleted_at IS NULL
),
completion AS (
  SELECT c.id, c.name, d.dials, d.completed
  FROM (SELECT campaign_id, count(*) AS dials, count(*) FILTER (WHERE status = 'completed') AS completed
        FROM outbound WHERE is_dial GROUP BY campaign_id) d
  JOIN live_campaigns c ON c.id = d.campaign_id
)
SELECT
  l.credits_purchased, l.credits_used, l.remaining_credits,
  cs.*,
  p.outbound_calls,
  (SELECT count(*) FROM sms_messages
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND sent_at >= $from::TIMESTAMP AND sent_at < $to::TIMESTAMP) AS outbound_sms,
  p.talk_sec,
  (SELECT count(*) FROM phone_numbers
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND released_at IS NULL) AS owned_numbers,
  p.messages_played, p.playback_sec, p.playback_pct_sum, p.playback_n,
  p.playback_0_25, p.playback_25_50, p.playback_50_75, p.playback_75_100,
  -- Ratios are compared exactly enough as doubles: two different fractions of counts
  -- below 2^53 never round to the same double, and equal ones always do.
  (SELECT list({'id': id, 'name': name, 'dials': dials, 'completed': completed}
     ORDER BY completed::DOUBLE / dials DESC, dials DESC, id)[1] FROM completion) AS top_campaign,
  (SELECT list({'status': status, 'n': n}) FROM (SELECT status, count(*) AS n FROM outbound GROUP BY status)) AS outcomes,
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
     count(*) AS outbound_calls,
     coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0) AS talk_sec,
     count(*) FILTER (WHERE pct IS NOT NULL AND played > 0) AS messages_played,
     coalesce(sum(played) FILTER (WHERE pct IS NOT NULL), 0) AS playback_sec,
     coalesce(sum(pct), 0) AS playback_pct_sum,
     count(pct) AS playback_n,
     count(*) FILTER (WHERE pct < 25) AS playback_0_25,
     count(*) FILTER (WHERE pct >= 25 AND pct < 50) AS playback_25_50,
     count(*) FILTER (WHERE pct >= 50 AND pct < 75) AS playback_50_75,
     count(*) FILTER (WHERE pct >= 75) AS playback_75_100
   FROM outbound WHERE is_dial) p
