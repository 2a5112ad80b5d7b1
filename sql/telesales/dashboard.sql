-- Overall KPIs of the window. Dials are outbound calls that were placed (not blocked);
-- talk is summed over answered dials; blocked calls are counted apart.
SELECT
  count(*) FILTER (WHERE is_dial)                                   AS total_dials,
  count(*) FILTER (WHERE is_dial AND is_answered)                   AS total_answers,
  coalesce(sum(talk_sec) FILTER (WHERE is_dial AND is_answered), 0) AS talk_sec,
  count(DISTINCT agent_id) FILTER (WHERE is_dial)                   AS unique_agents,
  count(*) FILTER (WHERE direction = 'outbound' AND status = 'blocked') AS pdpl_blocked_count
FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
