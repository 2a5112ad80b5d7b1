-- Calls of the window with a disposition, per code. Codes are per account: when the
-- scope spans accounts, label/category/color come from the lowest account id using it.
-- The counts come from disposition_slots, or from the calls when an agent or team filter
-- needs them; the branch not taken folds to an empty one, its condition being known at
-- bind time.
WITH per_account AS (
  SELECT account_id, disposition_code AS code, sum(calls) AS n
  FROM window_disposition_slots($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
  WHERE $agent_ids IS NULL AND $team_id IS NULL
    AND ($campaign_id IS NULL OR campaign_id = $campaign_id)
  GROUP BY ALL
  UNION ALL
  SELECT account_id, disposition_code AS code, count(*) AS n
  FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id)
  WHERE ($agent_ids IS NOT NULL OR $team_id IS NOT NULL) AND disposition_code IS NOT NULL
  GROUP BY ALL
), per_code AS (
  SELECT p.code,
    sum(p.n)::BIGINT AS count,
    arg_min(d.label, p.account_id)    AS label,
    arg_min(d.category, p.account_id) AS category,
    arg_min(d.color, p.account_id)    AS color
  FROM per_account p
  LEFT JOIN dispositions d ON d.account_id = p.account_id AND d.code = p.code
  GROUP BY p.code
)
SELECT code, label, category, color, count, sum(count) OVER ()::BIGINT AS total
FROM per_code
ORDER BY count DESC, code
