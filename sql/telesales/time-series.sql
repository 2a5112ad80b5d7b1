-- Dial activity per local day, ISO week or hour, zero-filled over the whole window.
-- Every 15-minute UTC slot of the window gets its local bucket label; the call_slots
-- roll-up is summed per slot and then per label, so a repeated local hour (DST fall-back) is one bucket
-- and a skipped one (spring-forward) does not appear.
WITH slots AS (
  SELECT range AS slot15
  FROM range(floor(epoch($from::TIMESTAMP) / 900)::BIGINT, ceil(epoch($to::TIMESTAMP) / 900)::BIGINT)
), labelled AS (
  SELECT slot15,
    CASE $group_by
      WHEN 'week' THEN strftime(slot_local(slot15, $tz), '%G-W%V')
      WHEN 'hour' THEN strftime(slot_local(slot15, $tz), '%Y-%m-%d %H:00:00')
      ELSE strftime(slot_local(slot15, $tz), '%Y-%m-%d')
    END AS bucket
  FROM slots
), s AS (
  SELECT slot15, sum(dials) AS dials, sum(answers) AS answers, sum(talk_sec) AS talk_sec, sum(conversions) AS conversions
  FROM window_slots($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  GROUP BY slot15
)
SELECT l.bucket,
  coalesce(sum(s.dials), 0)::BIGINT       AS dials,
  coalesce(sum(s.answers), 0)::BIGINT     AS answers,
  coalesce(sum(s.talk_sec), 0)::BIGINT    AS talk_sec,
  coalesce(sum(s.conversions), 0)::BIGINT AS conversions
FROM labelled l
LEFT JOIN s ON s.slot15 = l.slot15
GROUP BY l.bucket
ORDER BY l.bucket
