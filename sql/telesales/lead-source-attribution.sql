-- The funnel's lead set L grouped by source (NULL is "(unknown)").
WITH l AS (
  SELECT id, coalesce(source, '(unknown)') AS source FROM window_leads($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id)
), per_lead AS (
  SELECT lead_id,
    bool_or(is_dial)                 AS dialed,
    bool_or(is_dial AND is_answered) AS contacted,
    bool_or(is_conversion)           AS converted
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  WHERE lead_id IN (SELECT id FROM l)
  GROUP BY lead_id
)
SELECT
  l.source,
  count(*)                             AS total_leads,
  count(*) FILTER (WHERE p.dialed)     AS dialed_count,
  count(*) FILTER (WHERE p.contacted)  AS contacted_count,
  count(*) FILTER (WHERE p.converted)  AS conv_count
FROM l LEFT JOIN per_lead p ON p.lead_id = l.id
GROUP BY l.source
ORDER BY total_leads DESC, l.source
