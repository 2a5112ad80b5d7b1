-- Every caller ID of the accounts in scope, with figures over its dials in the window
-- and its dials of the local day so far (same filters). Thresholds are parameters.
WITH w AS (
  SELECT * FROM caller_figures($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
), today AS (
  SELECT caller_id_id, total_calls AS n
  FROM caller_figures($accounts, $today_from::TIMESTAMP, $today_to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
), f AS (
  SELECT ci.*, coalesce(w.total_calls, 0) AS total_calls, coalesce(w.answered_calls, 0) AS answered_calls,
    coalesce(w.answered_talk_sec, 0) AS answered_talk_sec, coalesce(w.short_calls, 0) AS short_calls,
    coalesce(w.rejected_calls, 0) AS rejected_calls, coalesce(t.n, 0) AS health_calls_today
  FROM caller_ids ci
  LEFT JOIN w ON w.caller_id_id = ci.id
  LEFT JOIN today t ON t.caller_id_id = ci.id
  WHERE ci.account_id IN (SELECT unnest($accounts))
)
SELECT
  cid, display_name, carrier, cli_type, pool_status,
  strftime(cooldown_until, '%Y-%m-%dT%H:%M:%S.%gZ') AS cooldown_until,
  daily_cap, total_calls, answered_calls, answered_talk_sec, short_calls, rejected_calls, health_calls_today,
  CASE
    WHEN total_calls = 0 THEN 'no_data'
    WHEN total_calls >= $block_min_calls
      AND (answered_calls * 100 < $block_asr_pct * total_calls OR rejected_calls * 100 >= $block_rejected_pct * total_calls)
      THEN 'suspected_block'
    WHEN answered_calls * 100 < $warn_asr_pct * total_calls OR short_calls * 100 > $warn_short_pct * total_calls THEN 'warning'
    ELSE 'healthy'
  END AS health_status
FROM f
ORDER BY total_calls DESC, cid
