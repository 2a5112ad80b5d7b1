-- Dials by local weekday (0 = Sunday) and hour, zero-filled to 7 × 24. Calls are
-- summed per 15-minute UTC slot from the call_slots roll-up; only the slots are converted to local time.
WITH s AS (
  SELECT slot15, sum(dials) AS dials, sum(answers) AS answered
  FROM window_slots($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  GROUP BY slot15
), g AS (
  SELECT dayofweek(slot_local(slot15, $tz)) AS dow, hour(slot_local(slot15, $tz)) AS h,
    sum(dials) AS dials, sum(answered) AS answered
  FROM s GROUP BY ALL
)
SELECT d.d AS day_of_week, h.h AS hour, coalesce(g.dials, 0)::BIGINT AS dials, coalesce(g.answered, 0)::BIGINT AS answered
FROM range(7) d(d) CROSS JOIN range(24) h(h)
LEFT JOIN g ON g.dow = d.d AND g.h = h.h
ORDER BY day_of_week, hour
