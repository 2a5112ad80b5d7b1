-- Answered and missed inbound calls per local day of `timezone` (slots first, as in
-- daily_call_distribution); the declaration fills the days without calls.
WITH slots AS (
  SELECT slot15, count(*) FILTER (WHERE is_answered) AS answered, count(*) FILTER (WHERE NOT is_answered) AS missed
  FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
  GROUP BY slot15
)
SELECT strftime(slot_local(slot15, $tz), '%Y-%m-%d') AS day, sum(answered) AS answered, sum(missed) AS missed
FROM slots GROUP BY 1 ORDER BY 1
