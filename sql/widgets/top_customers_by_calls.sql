-- Inbound calls per account of the scope, the ten busiest (ties: lower id). With a
-- customer_id the scope is that one account and the figure is its call total.
SELECT a.id, a.name, count(*) AS val
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP) c
JOIN accounts a ON a.id = c.account_id
GROUP BY a.id, a.name
ORDER BY val DESC, a.id
LIMIT 10
