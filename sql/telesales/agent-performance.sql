-- One row per agent with at least one dial in the window (deleted agents included:
-- their recorded activity still counts), from the call_slots roll-up. Handle time is
-- talk + wrap of answered dials.
WITH per_agent AS (
  SELECT agent_id, sum(dials) AS dials, sum(answers) AS answers, sum(handle_sec) AS handle_sec, sum(conversions) AS conversions
  FROM window_slots($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  WHERE agent_id IS NOT NULL
  GROUP BY agent_id
  HAVING sum(dials) > 0
)
SELECT p.agent_id, a.name, a.username, p.dials, p.answers, p.handle_sec, p.conversions
FROM per_agent p
LEFT JOIN agents a ON a.id = p.agent_id
ORDER BY p.dials DESC, p.agent_id
