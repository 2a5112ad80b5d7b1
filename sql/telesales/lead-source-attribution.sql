-- The funnel's lead set L grouped by source (NULL is "(unknown)"); contacted is the
-- funnel's connected stage.
SELECT
  coalesce(source, '(unknown)')        AS source,
  count(*)                             AS total_leads,
  count(*) FILTER (WHERE dialed)       AS dialed_count,
  count(*) FILTER (WHERE connected)    AS contacted_count,
  count(*) FILTER (WHERE converted)    AS conv_count
FROM lead_stages($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
GROUP BY ALL
ORDER BY total_leads DESC, source
