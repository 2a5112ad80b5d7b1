-- Partner analytics: the window's calls grouped for the roll-ups, and the ten accounts
-- that cost the most among those with calls (ties: auth_id).
SELECT
  (SELECT list(g) FROM partner_call_groups($accounts, $from::TIMESTAMP, $to::TIMESTAMP) g) AS groups,
  (SELECT list({'auth_id': auth_id, 'name': name, 'total_calls': total_calls, 'cost': cost::VARCHAR} ORDER BY cost DESC, auth_id)
     FROM (
       SELECT a.auth_id, a.name, count(*) AS total_calls, sum(c.cost) AS cost
       FROM window_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, NULL, NULL, NULL) c
       JOIN accounts a ON a.id = c.account_id
       WHERE c.status <> 'blocked'
       GROUP BY a.auth_id, a.name
       ORDER BY cost DESC, a.auth_id
       LIMIT 10
     )) AS top_spenders
