-- Missed inbound calls, then answered ones by talk length: [0,30), [30,60), [60,120),
-- [120,300) and [300, ∞) seconds.
SELECT
  count(*) FILTER (WHERE NOT is_answered)                                  AS missed,
  count(*) FILTER (WHERE is_answered AND talk_sec < 30)                    AS under_30,
  count(*) FILTER (WHERE is_answered AND talk_sec >= 30 AND talk_sec < 60)  AS s30_60,
  count(*) FILTER (WHERE is_answered AND talk_sec >= 60 AND talk_sec < 120) AS m1_2,
  count(*) FILTER (WHERE is_answered AND talk_sec >= 120 AND talk_sec < 300) AS m2_5,
  count(*) FILTER (WHERE is_answered AND talk_sec >= 300)                  AS over_5
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
