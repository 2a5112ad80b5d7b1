-- Answered and missed inbound calls by local hour of `timezone`. Calls are counted per
-- 15-minute UTC slot first and only the slots are converted: every IANA offset is a
-- multiple of 15 minutes, so a slot never straddles a local hour.
WITH slots AS (
  SELECT slot15, count(*) FILTER (WHERE is_answered) AS answered, count(*) FILTER (WHERE NOT is_answered) AS missed
  FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
  GROUP BY slot15
)
SELECT hour(slot_local(slot15, $tz)) AS hour, sum(answered) AS answered, sum(missed) AS missed
FROM slots GROUP BY 1 ORDER BY 1
