-- The lead set L: non-deleted leads in scope (and campaign) created in the window.
-- Each stage counts the leads of L whose calls in the window reached it; agent and team
-- filters narrow the calls, never L (lead_counts in sql/macros/3-rollups.sql).
WITH t AS (
  SELECT
    coalesce(sum(leads), 0)::BIGINT     AS total,
    coalesce(sum(dialed), 0)::BIGINT    AS dialed,
    coalesce(sum(connected), 0)::BIGINT AS connected,
    coalesce(sum(talked), 0)::BIGINT    AS talked,
    coalesce(sum(disposed), 0)::BIGINT  AS disposed,
    coalesce(sum(converted), 0)::BIGINT AS converted
  FROM lead_counts($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
)
SELECT stage, count FROM (
  SELECT 1 AS o, 'Total leads' AS stage, total AS count FROM t
  UNION ALL SELECT 2, 'Dialed', dialed FROM t
  UNION ALL SELECT 3, 'Connected', connected FROM t
  UNION ALL SELECT 4, 'Talked > 30s', talked FROM t
  UNION ALL SELECT 5, 'Disposed', disposed FROM t
  UNION ALL SELECT 6, 'Converted', converted FROM t
)
ORDER BY o
