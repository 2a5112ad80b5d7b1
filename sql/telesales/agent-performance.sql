-- One row per agent with at least one dial in the window (deleted agents included:
-- their recorded activity still counts). Handle time is talk + wrap of answered dials.
SELECT
  c.agent_id,
  a.name,
  a.username,
  count(*)                                                        AS dials,
  count(*) FILTER (WHERE c.is_answered)                           AS answers,
  coalesce(sum(c.talk_sec + c.wrap_sec) FILTER (WHERE c.is_answered), 0) AS handle_sec,
  count(*) FILTER (WHERE c.is_conversion)                         AS conversions
FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id) c
LEFT JOIN agents a ON a.id = c.agent_id
WHERE c.is_dial AND c.agent_id IS NOT NULL
GROUP BY c.agent_id, a.name, a.username
ORDER BY dials DESC, c.agent_id
