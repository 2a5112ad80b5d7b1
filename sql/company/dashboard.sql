-- The company dashboard (METRICS.md "Company dashboard"): the last `days` × 24 h ending
-- now, over the caller's accounts. One row; lists come back as lists of structs and
-- credits as exact decimal text (the declaration turns them into JSON numbers).
WITH
ledger AS (
  SELECT kind, credits, created_at FROM credit_transactions
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND created_at < $now::TIMESTAMP
),
outbound AS (
  SELECT status, is_dial, is_answered, talk_sec, campaign_id, message_sec, coalesce(playback_sec, 0) AS playback_sec
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, NULL, NULL, NULL)
  WHERE direction = 'outbound'
),
played AS (
  -- Voice-broadcast dials with a message: playback as a share of the message.
  SELECT playback_sec, playback_sec * 100.0 / message_sec AS pct FROM outbound WHERE is_dial AND message_sec > 0
),
live_campaigns AS (
  SELECT id, name, type, status FROM campaigns
  WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
    AND deleted_at IS NULL
),
completion AS (
  SELECT c.id, c.name, count(*) AS dials, count(*) FILTER (WHERE o.status = 'completed') AS completed
  FROM outbound o JOIN live_campaigns c ON c.id = o.campaign_id
  WHERE o.is_dial
  GROUP BY c.id, c.name
),
usage_days AS (
  SELECT created_at::DATE AS day, -sum(credits) AS credits FROM ledger
  WHERE kind = 'usage' AND created_at >= $from::TIMESTAMP
  GROUP BY 1
)
SELECT
  (SELECT coalesce(sum(credits), 0) FROM ledger WHERE kind = 'purchase' AND created_at >= $from::TIMESTAMP)::VARCHAR AS credits_purchased,
  (SELECT -coalesce(sum(credits), 0) FROM ledger WHERE kind = 'usage' AND created_at >= $from::TIMESTAMP)::VARCHAR AS credits_used,
  (SELECT coalesce(sum(credits), 0) FROM ledger)::VARCHAR AS remaining_credits,
  (SELECT count(*) FROM live_campaigns) AS campaigns_total,
  (SELECT count(*) FILTER (WHERE status = 'draft') FROM live_campaigns) AS campaigns_draft,
  (SELECT count(*) FILTER (WHERE status = 'active') FROM live_campaigns) AS campaigns_active,
  (SELECT count(*) FILTER (WHERE status = 'paused') FROM live_campaigns) AS campaigns_paused,
  (SELECT count(*) FILTER (WHERE status = 'completed') FROM live_campaigns) AS campaigns_completed,
  (SELECT count(*) FILTER (WHERE is_dial) FROM outbound) AS outbound_calls,
  (SELECT count(*) FROM sms_messages
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND sent_at >= $from::TIMESTAMP AND sent_at < $to::TIMESTAMP) AS outbound_sms,
  (SELECT coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0) FROM outbound WHERE is_dial) AS talk_sec,
  (SELECT count(*) FROM phone_numbers
    WHERE account_id BETWEEN list_min($accounts) AND list_max($accounts) AND list_contains($accounts, account_id)
      AND released_at IS NULL) AS owned_numbers,
  (SELECT count(*) FILTER (WHERE playback_sec > 0) FROM played) AS messages_played,
  (SELECT coalesce(sum(playback_sec), 0) FROM played) AS playback_sec,
  (SELECT coalesce(sum(pct), 0) FROM played) AS playback_pct_sum,
  (SELECT count(*) FROM played) AS playback_n,
  (SELECT count(*) FILTER (WHERE pct < 25) FROM played) AS playback_0_25,
  (SELECT count(*) FILTER (WHERE pct >= 25 AND pct < 50) FROM played) AS playback_25_50,
  (SELECT count(*) FILTER (WHERE pct >= 50 AND pct < 75) FROM played) AS playback_50_75,
  (SELECT count(*) FILTER (WHERE pct >= 75) FROM played) AS playback_75_100,
  -- Ratios are compared exactly enough as doubles: two different fractions of counts
  -- below 2^53 never round to the same double, and equal ones always do.
  (SELECT list({'id': id, 'name': name, 'dials': dials, 'completed': completed}
     ORDER BY completed::DOUBLE / dials DESC, dials DESC, id)[1] FROM completion) AS top_campaign,
  (SELECT count(*) FILTER (WHERE type = 'voice_broadcast') FROM live_campaigns) AS type_voice_broadcast,
  (SELECT count(*) FILTER (WHERE type = 'sms') FROM live_campaigns) AS type_sms,
  (SELECT count(*) FILTER (WHERE type = 'telesales') FROM live_campaigns) AS type_telesales,
  (SELECT count(*) FILTER (WHERE type = 'inbound') FROM live_campaigns) AS type_inbound,
  (SELECT list({'status': status, 'n': n}) FROM (SELECT status, count(*) AS n FROM outbound GROUP BY status)) AS outcomes,
  (SELECT list({'date': strftime(d.day, '%Y-%m-%d'), 'credits': coalesce(u.credits, 0)::VARCHAR} ORDER BY d.day)
     FROM (SELECT unnest(range(date_trunc('day', $from::TIMESTAMP), date_trunc('day', $now::TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY))::DATE AS day) d
     LEFT JOIN usage_days u ON u.day = d.day) AS usage_overtime
