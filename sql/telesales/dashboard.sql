-- Overall KPIs of the window, from the call_slots roll-up. Dials are outbound calls that
-- were placed (not blocked); talk is summed over answered dials; blocked calls are
-- counted apart; an agent counts once if any of its slots in the window has a dial.
SELECT
  coalesce(sum(dials), 0)                              AS total_dials,
  coalesce(sum(answers), 0)                            AS total_answers,
  coalesce(sum(talk_sec), 0)                           AS talk_sec,
  count(DISTINCT agent_id) FILTER (WHERE dials > 0)    AS unique_agents,
  coalesce(sum(blocked), 0)                            AS pdpl_blocked_count
FROM window_slots($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
