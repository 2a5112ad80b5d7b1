-- The lead set L: non-deleted leads in scope (and campaign) created in the window.
-- Each stage counts the leads of L whose calls in the window reached it; agent and team
-- filters narrow the calls, never L (lead_stages in sql/macros/1-scope.sql).
WITH t AS (
  SELECT
    count(*)                       AS total,
    count(*) FILTER (WHERE dialed)    AS dialed,
    count(*) FILTER (WHERE connected) AS connected,
    count(*) FILTER (WHERE talked)    AS talked,
    count(*) FILTER (WHERE disposed)  AS disposed,
    count(*) FILTER (WHERE converted) AS converted
  FROM lead_stages($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
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
