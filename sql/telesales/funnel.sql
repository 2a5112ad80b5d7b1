-- The lead set L: non-deleted leads in scope (and campaign) created in the window.
-- Each stage counts distinct leads of L by their calls in the window; agent and team
-- filters narrow the calls, never L.
WITH l AS (
  SELECT id FROM window_leads($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id)
), per_lead AS (
  SELECT lead_id,
    bool_or(is_dial)                    AS dialed,
    bool_or(is_dial AND is_answered)    AS connected,
    bool_or(is_dial AND talk_sec > 30)  AS talked,
    bool_or(disposition_code IS NOT NULL) AS disposed,
    bool_or(is_conversion)              AS converted
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  WHERE lead_id IN (SELECT id FROM l)
  GROUP BY lead_id
), t AS (
  SELECT
    count(*) AS total,
    count(*) FILTER (WHERE p.dialed)    AS dialed,
    count(*) FILTER (WHERE p.connected) AS connected,
    count(*) FILTER (WHERE p.talked)    AS talked,
    count(*) FILTER (WHERE p.disposed)  AS disposed,
    count(*) FILTER (WHERE p.converted) AS converted
  FROM l LEFT JOIN per_lead p ON p.lead_id = l.id
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
