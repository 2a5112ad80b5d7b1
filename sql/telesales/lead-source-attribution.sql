-- The funnel's lead set L grouped by source (NULL is "(unknown)"); contacted is the
-- funnel's connected stage.
SELECT
  coalesce(source, '(unknown)')  AS source,
  sum(leads)::BIGINT             AS total_leads,
  sum(dialed)::BIGINT            AS dialed_count,
  sum(connected)::BIGINT         AS contacted_count,
  sum(converted)::BIGINT         AS conv_count
FROM lead_counts($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
GROUP BY ALL
ORDER BY total_leads DESC, source
