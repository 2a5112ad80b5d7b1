-- Partner analytics: the window's calls grouped for the roll-ups, and the ten accounts
-- that cost the most among those with calls (ties: auth_id), from the same one pass.
WITH g AS (SELECT * FROM partner_call_groups($accounts, $from::TIMESTAMP, $to::TIMESTAMP))
SELECT
  (SELECT list({'day': day, 'direction': direction, 'product': product, 'total_calls': total_calls,
                'answered_calls': answered_calls, 'talk_sec': talk_sec, 'cost': cost::VARCHAR}) FROM g) AS groups,
  (SELECT list({'auth_id': auth_id, 'name': name, 'total_calls': total_calls, 'cost': cost::VARCHAR} ORDER BY cost DESC, auth_id)
     FROM (
       SELECT a.auth_id, a.name, sum(g.total_calls) AS total_calls, sum(g.cost) AS cost
       FROM g JOIN accounts a ON a.id = g.account_id
       GROUP BY a.auth_id, a.name
       ORDER BY cost DESC, a.auth_id
       LIMIT 10
     )) AS top_spenders
